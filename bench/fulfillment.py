"""The fulfilment bench: how fast `smmpanel worker` forwards orders and follows them upstream.

Against an in-process `Simulator` on loopback, all measured in this one run:

1. forwarding: N orders placed through `order_place`, then 1 worker (and, on PostgreSQL,
   `--workers` of them too) running until every order has a provider order id: orders/s,
   and the ratio of many workers to one;
2. following: a sweep of `--sync-orders` orders that are In progress upstream: the time
   until every one of them has been polled once (status calls of 100 ids);
3. upstream calls per order over the run of (1), from the simulator's own counters.

Workers are `smmpanel worker` subprocesses (so none of them shares a GIL with the simulator,
and one worker compares with four like for like); this process places orders, watches the
database and hosts the simulator. Not a test: nothing here asserts a speed.

On SQLite (the default) everything lives in a temporary SMMPANEL_VAR, removed at the end.
With --database-url postgres://USER@127.0.0.1:5432 it creates its own database
`smmpanel_bench_<pid>` on that server and drops it at the end; nothing else is touched.

    python -m bench --only fulfillment [--orders 2000] [--sync-orders 100000]
                    [--workers 4] [--database-url postgres://postgres@127.0.0.1:5432]

Setting up the sweep: the panel's rows are written in one INSERT ... SELECT (the sweep
measures polling, not placing; bulk_create would take a minute per 100k rows). The simulator
has no bulk helper, and its `_advance` walks every *active* order on every request
(O(active)). So the sweep's orders are created through `sim.api` `add` one by one and then
frozen In progress (taken out of the simulator's active set, which is what a speed of 0
would look like; this reaches into its privates): their replies are exactly those of an
order that delivers nothing, and a status call costs the simulator O(ids), not O(100k).
`--sync-sim live` leaves them active instead, to show what the simulator itself costs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
QUANTITY = 100
#: Where orders wait until the workers are up (so start-up time is not measured).
LATER = timedelta(days=365)
#: A stalled phase (no progress at all for this long) ends the bench with an error.
STALL_SECONDS = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=2000, help="orders to forward (2,000)")
    parser.add_argument(
        "--sync-orders", type=int, default=100_000, help="In-progress orders to poll (100,000)"
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="the many-workers run, PostgreSQL only (4)"
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=None,
        help="poll while forwarding, every this many seconds (default: hold polls back until "
        "every order is sent, then poll them all: forwarding and following timed apart)",
    )
    parser.add_argument(
        "--sync-sim",
        choices=("frozen", "live"),
        default="frozen",
        help="sweep orders frozen In progress upstream (default) or left in the simulator's "
        "active set (then every request walks all of them)",
    )


# -- the database ------------------------------------------------------------------------------


@contextlib.contextmanager
def _database(server_url: str) -> Iterator[str]:
    """'' for SQLite; else a fresh database on that (loopback) server, dropped at the end."""
    if not server_url:
        yield ""
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(server_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"--database-url must be postgres://..., not {parts.scheme}://")
    if (parts.hostname or "") not in LOOPBACK:
        raise SystemExit("--database-url: the bench only talks to a server on loopback")
    name = f"smmpanel_bench_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# -- workers -------------------------------------------------------------------------------


class Workers:
    """`smmpanel worker` subprocesses, each in its own session, stopped by their ids."""

    def __init__(self, count: int, env: dict[str, str], poll_seconds: float, tag: str) -> None:
        smmpanel = str(Path(sys.executable).with_name("smmpanel"))
        self.logs = [Path(env["SMMPANEL_VAR"], f"worker-{tag}-{i}.log") for i in range(count)]
        self.procs: list[subprocess.Popen[str]] = []
        try:
            for i, log in enumerate(self.logs):
                with log.open("w") as err:
                    self.procs.append(
                        subprocess.Popen(
                            [smmpanel, "worker", "--name", f"bench-{tag}-{i}",
                             "--poll-seconds", str(poll_seconds), "--idle-seconds", "0.05"],
                            env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                            start_new_session=True,
                        )
                    )  # fmt: skip
            # Each says "worker NAME running" once its loop is about to start.
            for proc, log in zip(self.procs, self.logs, strict=True):
                assert proc.stdout is not None
                if "running" not in proc.stdout.readline():
                    raise RuntimeError(f"a worker did not start:\n{log.read_text()[-2000:]}")
        except BaseException:
            self.stop()
            raise

    def check(self) -> None:
        for proc, log in zip(self.procs, self.logs, strict=True):
            if proc.poll() is not None:
                tail = log.read_text()[-2000:]
                raise RuntimeError(f"a worker exited ({proc.returncode}):\n{tail}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()


def _wait(
    what: str,
    remaining: Callable[[], int],
    workers: Workers,
    *,
    every: float,
    progress_after: float = 10.0,
) -> float:
    """Poll `remaining()` until it is 0; the seconds that took. Prints progress on long waits
    and gives up if nothing moves for STALL_SECONDS."""
    start = time.monotonic()
    last_left, last_move, last_print = remaining(), start, start
    while last_left:
        time.sleep(every)
        left = remaining()
        now = time.monotonic()
        if left != last_left:
            last_left, last_move = left, now
        elif now - last_move > STALL_SECONDS:
            raise RuntimeError(f"{what}: stuck with {left} to go for {STALL_SECONDS:.0f}s")
        if left and now - start > progress_after and now - last_print >= progress_after:
            print(f"    ... {what}: {left} to go after {now - start:.0f}s", flush=True)
            last_print = now
        workers.check()
    return time.monotonic() - start


# -- the phases ------------------------------------------------------------------------------


@dataclass
class ForwardRun:
    workers: int
    orders: int
    forward_seconds: float
    done_seconds: float
    requests: dict[str, int]

    @property
    def rate(self) -> float:
        return self.orders / self.forward_seconds


@dataclass
class SweepRun:
    workers: int
    orders: int
    seconds: float
    status_calls: int

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


class Bench:
    def __init__(self, args: argparse.Namespace, env: dict[str, str], engine: str) -> None:
        from smmpanel.accounts.services import customer_create
        from smmpanel.catalog.models import Service
        from smmpanel.providers.client import ProviderClient
        from smmpanel.providers.services import (
            import_preview,
            provider_create,
            services_import,
        )
        from smmpanel.simulator.server import Simulator

        self.args, self.env, self.engine = args, env, engine
        self.sim = Simulator(speed=1e9, start_delay=0.0, seed=1, balance="1000000000")
        self.sim.start()
        self.provider = provider_create(name="Sim", api_url=self.sim.url, api_key=self.sim.key)
        markup: tuple[Literal["percent", "fixed"], Decimal] = ("percent", Decimal(20))
        with ProviderClient(self.sim.url, self.sim.key) as client:
            rows = import_preview(provider=self.provider, remote=client.services(), markup=markup)
        services_import(provider=self.provider, rows=rows, markup=markup)
        service = (
            Service.objects.filter(provider=self.provider, type="Default", enabled=True)
            .order_by("id")
            .first()
        )
        assert service is not None
        self.service = service
        self.customer, _ = customer_create(username="bench", balance="100000000")
        self.batches = 0

    def close(self) -> None:
        self.sim.stop()

    # (1) + (3)

    def place(self, n: int) -> tuple[range, float]:
        """Place n orders through order_place; held back (next check a year away) until the
        workers are up. Returns their id range and the seconds placing took."""
        from smmpanel.orders.models import Order
        from smmpanel.orders.request import OrderRequest
        from smmpanel.orders.services import order_place

        self.batches += 1
        ids: list[int] = []
        start = time.monotonic()
        for i in range(n):
            order = order_place(
                customer=self.customer,
                service_id=self.service.pk,
                params=OrderRequest(link=f"https://bench.example/{self.batches}/{i}",
                                    quantity=QUANTITY),
            )  # fmt: skip
            ids.append(order.pk)
        seconds = time.monotonic() - start
        span = range(min(ids), max(ids) + 1)
        assert len(span) == n, "orders were placed by someone else meanwhile"
        from django.utils import timezone

        Order.objects.filter(id__range=(span[0], span[-1])).update(
            next_check_at=timezone.now() + LATER
        )
        return span, seconds

    def forward(self, span: range, workers: int) -> ForwardRun:
        from django.db.models import Q
        from django.utils import timezone

        from smmpanel.orders.models import Order

        orders = Order.objects.filter(id__range=(span[0], span[-1]))
        interleaved = self.args.poll_seconds is not None
        poll = self.args.poll_seconds if interleaved else 3600.0
        team = Workers(workers, self.env, poll, f"fwd{workers}")
        try:
            self.sim.reset_stats()
            start = time.monotonic()
            orders.update(next_check_at=timezone.now())
            _wait(
                f"forwarding with {workers} worker(s)",
                lambda: orders.filter(provider_order_id__isnull=True).count(),
                team,
                every=0.1,
            )
            forwarded = time.monotonic() - start
            if not interleaved:  # the polls held back are all due now
                orders.filter(forward_state="sent").update(next_check_at=timezone.now())
            _wait(
                f"following to the end with {workers} worker(s)",
                lambda: (
                    orders.filter(Q(status__in=["Pending", "In progress", "Processing"]))
                    .exclude(forward_state__in=["held", "failed"])
                    .count()
                ),
                team,
                every=0.1,
            )
            done = time.monotonic() - start
            requests = dict(self.sim.stats()["requests"])
        finally:
            team.stop()
        stuck = orders.exclude(status="Completed").count()
        if stuck:
            print(f"    !! {stuck} orders did not complete (held or failed)", flush=True)
        return ForwardRun(workers, len(span), forwarded, done, requests)

    # (2)

    def sync_setup(self, n: int) -> range:
        """n orders In progress upstream and in SENT here, each with its provider id."""
        from django.db.models import Max, Min
        from django.utils import timezone

        from smmpanel.orders.models import ForwardState, Order
        from smmpanel.simulator.server import IN_PROGRESS

        sim = self.sim
        sim.configure(speed=1e-9, start_delay=0.0, duplicate_link_check=False)
        start = time.monotonic()
        sim_ids: list[int] = []
        for i in range(n):
            reply = sim.api(
                {"key": sim.key, "action": "add", "service": str(self.service.provider_service_id),
                 "link": f"https://bench.example/sync/{i}", "quantity": str(QUANTITY)}
            )  # fmt: skip
            oid = int(reply["order"])
            sim_ids.append(oid)
            with sim._lock:  # out of the active set at once: else each add walks all before it
                sim._active.discard(oid)
        with sim._lock:
            for oid in sim_ids:
                o = sim._orders[oid]
                o.status, o.last = IN_PROGRESS, o.start_at
            if self.args.sync_sim == "live":
                sim._active.update(sim_ids)
        upstream = time.monotonic() - start

        charge = (self.service.rate * QUANTITY / 1000).quantize(Decimal("0.00001"))
        template = Order(
            customer=self.customer, service=self.service, type=self.service.type,
            status="In progress", quantity=QUANTITY, rate=self.service.rate,
            charged_quantity=QUANTITY, charge=charge, remains=QUANTITY, provider=self.provider,
            provider_service_id=self.service.provider_service_id,
            forward_state=ForwardState.SENT, next_check_at=timezone.now() + LATER,
        )  # fmt: skip
        assert sim_ids == list(range(sim_ids[0], sim_ids[0] + n)), "the simulator's ids have gaps"
        start = time.monotonic()
        _insert_series(template, n, link="https://bench.example/sync/", provider_order=sim_ids[0])
        # The simulator's ids only grow: these are the rows with its newest ones.
        bounds = Order.objects.filter(provider_order_id__gte=sim_ids[0]).aggregate(
            first=Min("id"), last=Max("id")
        )
        first, last = bounds["first"], bounds["last"]
        span = range(first, last + 1)
        assert len(span) == n, "orders were created by someone else meanwhile"
        print(
            f"  (setup: {n} orders in the simulator in {upstream:.1f}s, "
            f"here in {time.monotonic() - start:.1f}s)",
            flush=True,
        )
        return span

    def sweep(self, span: range, workers: int) -> SweepRun:
        from django.utils import timezone

        from smmpanel.orders.models import Order

        orders = Order.objects.filter(id__range=(span[0], span[-1]))
        orders.update(provider_status="", next_check_at=timezone.now() + LATER)
        # An hour between polls: once polled, an order is not due again during the sweep.
        team = Workers(workers, self.env, 3600.0, f"sync{workers}")
        try:
            self.sim.reset_stats()
            start = time.monotonic()
            orders.update(next_check_at=timezone.now())
            _wait(
                f"sync sweep with {workers} worker(s)",
                lambda: orders.filter(provider_status="").count(),
                team,
                every=1.0,
            )
            seconds = time.monotonic() - start
            with self.sim._lock:  # stats() would also render every one of the orders
                calls = self.sim._requests.get("status", 0)
        finally:
            team.stop()
        return SweepRun(workers, len(span), seconds, calls)

    def upstream_cost(self, span: range) -> tuple[float, float]:
        """Milliseconds per status call of 100 ids: the simulator alone, and over HTTP."""
        from smmpanel.orders.models import Order
        from smmpanel.providers.client import ProviderClient

        ids = [
            i
            for i in Order.objects.filter(id__range=(span[0], span[-1]))
            .order_by("id")
            .values_list("provider_order_id", flat=True)[:100]
            if i is not None
        ]
        params = {"key": self.sim.key, "action": "status", "orders": ",".join(map(str, ids))}
        rounds = 20
        start = time.monotonic()
        for _ in range(rounds):
            self.sim.api(params)
        alone = (time.monotonic() - start) / rounds
        with ProviderClient(self.sim.url, self.sim.key) as client:
            start = time.monotonic()
            for _ in range(rounds):
                client.statuses(ids)
            http = (time.monotonic() - start) / rounds
        return alone * 1000, http * 1000


def _insert_series(template: Any, n: int, *, link: str, provider_order: int) -> None:
    """n copies of the unsaved order `template` in one INSERT ... SELECT over i = 0..n-1, with
    link `link`+i and provider_order_id `provider_order`+i (bulk_create: a minute per 100k)."""
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    columns: list[str] = []
    values: list[str] = []
    params: list[Any] = []
    for f in type(template)._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if f.attname == "link":
            values.append("%s || CAST(g.i AS TEXT)")
            params.append(link)
        elif f.attname == "provider_order_id":
            values.append("%s + g.i")
            params.append(provider_order)
        else:
            # Typed on PostgreSQL (a bare NULL would be text); SQLite keeps what it is given.
            values.append(f"CAST(%s AS {f.db_type(connection)})" if postgres else "%s")
            params.append(f.get_db_prep_save(f.pre_save(template, add=True), connection))
    insert = (
        f"INSERT INTO {connection.ops.quote_name(type(template)._meta.db_table)} "
        f"({', '.join(columns)}) SELECT {', '.join(values)}"
    )
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"{insert} FROM generate_series(0, %s) AS g(i)", [*params, n - 1])
        else:
            cursor.execute(
                f"WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < %s) "
                f"{insert} FROM g",
                [n - 1, *params],
            )


# -- the report ------------------------------------------------------------------------------


def _calls(run: ForwardRun) -> str:
    n = run.orders
    add = run.requests.get("add", 0) / n
    status = run.requests.get("status", 0) / n
    total = sum(run.requests.values()) / n
    other = total - add - status
    per_call = f"one per {1 / status:.1f} orders" if status else "none"
    return (
        f"add {add:.3f}   status {status:.4f} ({per_call}; full calls of 100 ids: 0.0100)"
        f"   other {other:.4f}   total {total:.4f}"
    )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run(args: argparse.Namespace) -> None:
    """The whole bench; `args` as add_arguments() defines them, plus database_url."""
    var = tempfile.mkdtemp(prefix="smmpanel-bench-fulfil-")
    try:
        with _database(args.database_url) as url:
            _run(args, var, url)
    finally:
        shutil.rmtree(var, ignore_errors=True)


def _run(args: argparse.Namespace, var: str, url: str) -> None:
    os.environ["SMMPANEL_VAR"] = var
    os.environ["DJANGO_SETTINGS_MODULE"] = "smmpanel.settings"
    os.environ.pop("DATABASE_URL", None)
    if url:
        os.environ["DATABASE_URL"] = url
    env = dict(os.environ)
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--noinput", verbosity=0)
    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    counts = [1, args.workers] if engine == "PostgreSQL" and args.workers > 1 else [1]
    print(
        f"Fulfilment: `smmpanel worker` subprocesses against an in-process simulator on "
        f"loopback, {engine}, {os.cpu_count()} CPUs, load average {_load()}",
        flush=True,
    )
    bench = Bench(args, env, engine)
    try:
        forward_runs: list[ForwardRun] = []
        for count in counts:
            span, placing = bench.place(args.orders)
            if count == counts[0]:
                print(
                    f"  placed {args.orders} orders through order_place in {placing:.1f}s "
                    f"({args.orders / placing:.0f} orders/s)",
                    flush=True,
                )
            result = bench.forward(span, count)
            forward_runs.append(result)
            ratio = f"   {result.rate / forward_runs[0].rate:4.2f}x 1 worker" if count > 1 else ""
            if args.poll_seconds is None:
                follow = result.done_seconds - result.forward_seconds
                then = (
                    f"then all followed to Completed in {follow:.2f}s "
                    f"({result.orders / follow:.0f} orders/s)"
                )
            else:
                then = (
                    f"all Completed after {result.done_seconds:.2f}s, "
                    f"polling every {args.poll_seconds:g}s meanwhile"
                )
            print(
                f"  1. forwarded {result.orders} orders, {count} worker(s): "
                f"{result.forward_seconds:6.2f}s  {result.rate:7.0f} orders/s{ratio}   ({then})",
                flush=True,
            )
        if args.sync_orders > 0:
            span = bench.sync_setup(args.sync_orders)
            alone, http = bench.upstream_cost(span)
            print(
                f"  (a status call of 100 ids costs {alone:.2f} ms in the simulator alone, "
                f"{http:.2f} ms over loopback HTTP; upstream {args.sync_sim})",
                flush=True,
            )
            first: SweepRun | None = None
            for count in counts:
                sweep = bench.sweep(span, count)
                first = first or sweep
                ratio = f"   {sweep.rate / first.rate:4.2f}x 1 worker" if count > 1 else ""
                upstream = sweep.status_calls * http / 1000
                print(
                    f"  2. sync sweep of {sweep.orders} In-progress orders, {count} worker(s): "
                    f"{sweep.seconds:7.1f}s  {sweep.rate:7.0f} orders/s{ratio}   "
                    f"({sweep.status_calls} status calls, "
                    f"{sweep.orders / max(sweep.status_calls, 1):.1f} ids each; "
                    f"~{upstream:.1f}s of it waiting on upstream)",
                    flush=True,
                )
        for result in forward_runs:
            print(f"  3. upstream calls per order, {result.workers} worker(s): {_calls(result)}")
        print(f"  (load average at the end {_load()}; other work on the machine skews all of this)")
    finally:
        bench.close()
        from django.db import connections

        connections.close_all()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fulfillment", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
