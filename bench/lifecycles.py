"""The lifecycles bench: what drip-feeds the panel runs and subscriptions at the provider cost,
next to plain forwarding, all in one process and measured in this one run.

One in-process `Worker` (poll interval and backoff 0, as in the tests) against an in-process
`Simulator` on loopback; this process places the orders and calls the worker's passes itself:

1. plain forwarding: N Default orders (simulator service 1) through `order_place`, then
   `forward_pass()` until every one has a provider order id: orders/s, the baseline;
2. drip-feed run by the panel: N/3 parents of 3 runs (simulator service 3 takes no drip-feed
   upstream; ours offers it), the first run of each due at once; `dripfeed_pass()` +
   `forward_pass()` rounds until each parent has its first run upstream: runs/s. Then, on a
   fresh batch, the database queries of one `dripfeed_pass()` per run it creates, next to
   those of the `forward_pass()` that sends those runs (a plain order's cost);
3. subscriptions at the provider: M subscriptions of 5 posts (simulator service 16, a post
   every 0.05s upstream), `run_once()` until all are Completed; posts charged per second
   once every subscription is upstream, and upstream `status` calls per post.

Rates are wall-clock and include the simulator's own time (same process, same GIL); (3) is
also bounded by the simulator's posting pace (5 posts take 0.25s). Not a test: nothing here
asserts a speed. Everything lives in SQLite in a temporary SMMPANEL_VAR, removed at the end.
Run after the fulfilment bench (Django already set up on its database), it runs itself in a
child process.

    python -m bench --only lifecycles [--lifecycle-orders 300] [--lifecycle-subscriptions 30]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

#: No phase may take longer than this; the bench ends with an error instead.
TIMEOUT = 300.0
#: Where the rows of earlier phases go, so that later phases do not look at them.
LATER = timedelta(days=365)
RUNS = 3
POSTS = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lifecycle-orders", type=int, default=300, help="plain orders; drip-feeds are 1/3 (300)"
    )
    parser.add_argument(
        "--lifecycle-subscriptions", type=int, default=30, help="subscriptions of 5 posts (30)"
    )


def _until(what: str, done: Callable[[], bool], step: Callable[[], Any]) -> float:
    """Call `step()` until `done()`; the seconds that took, or an error after TIMEOUT."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > TIMEOUT:
            raise RuntimeError(f"{what}: not done after {TIMEOUT:.0f}s")
        step()
    return time.monotonic() - start


def run(args: argparse.Namespace) -> None:
    """The whole bench; `args` as add_arguments() defines them."""
    if "django" in sys.modules:
        from django.conf import settings

        if settings.configured:  # on another bench's database: start afresh in a child
            sys.stdout.flush()
            subprocess.run(
                [sys.executable, "-m", "bench.lifecycles",
                 "--lifecycle-orders", str(args.lifecycle_orders),
                 "--lifecycle-subscriptions", str(args.lifecycle_subscriptions)],
                check=True,
            )  # fmt: skip
            return
    var = tempfile.mkdtemp(prefix="smmpanel-bench-life-")
    try:
        _run(args, var)
    finally:
        shutil.rmtree(var, ignore_errors=True)


def _run(args: argparse.Namespace, var: str) -> None:
    os.environ["SMMPANEL_VAR"] = var
    os.environ["DJANGO_SETTINGS_MODULE"] = "smmpanel.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import httpx
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from smmpanel.accounts.services import customer_create
    from smmpanel.catalog.models import Service
    from smmpanel.fulfillment.worker import Worker, WorkerConfig
    from smmpanel.orders.models import Order
    from smmpanel.orders.request import OrderRequest
    from smmpanel.orders.services import order_place
    from smmpanel.providers.client import ProviderClient
    from smmpanel.providers.services import import_preview, provider_create, services_import
    from smmpanel.simulator.server import Simulator

    call_command("migrate", "--noinput", verbosity=0)
    n, m = args.lifecycle_orders, args.lifecycle_subscriptions
    parents = max(1, n // RUNS)
    print(
        f"Lifecycles: 1 in-process worker against an in-process simulator on loopback, SQLite, "
        f"{n} orders, {parents} drip-feeds of {RUNS} runs, {m} subscriptions of {POSTS} posts",
        flush=True,
    )
    sim = Simulator(speed=1e9, start_delay=0.0, seed=1, balance="1000000000")
    sim.start()
    worker = Worker(
        name="bench-lifecycles",
        config=WorkerConfig(
            poll_interval=timedelta(0), lease=timedelta(seconds=30),
            backoff_base=timedelta(0), idle_sleep=0.01, send_concurrency=1,
            timeout=httpx.Timeout(connect=1.0, read=5.0, write=1.0, pool=1.0),
        ),
    )  # fmt: skip
    try:
        provider = provider_create(name="Sim", api_url=sim.url, api_key=sim.key)
        markup: tuple[Literal["percent", "fixed"], Decimal] = ("percent", Decimal(20))
        with ProviderClient(sim.url, sim.key) as client:
            rows = import_preview(provider=provider, remote=client.services(), markup=markup)
        services_import(provider=provider, rows=rows, markup=markup)
        service = {s.provider_service_id: s.pk for s in Service.objects.filter(provider=provider)}
        Service.objects.filter(pk=service[3]).update(dripfeed=True)  # provider_dripfeed: no
        customer, _ = customer_create(username="bench", balance=Decimal("100000000"))
        links = iter(range(10**9))

        def place(sid: int, **params: str) -> int:
            params.setdefault("link", f"https://bench.example/{next(links)}")
            request = OrderRequest.from_text(params)  # the wire's text, as the API reads it
            return order_place(customer=customer, service_id=service[sid], params=request).pk

        def rest() -> None:  # earlier phases' rows are not due again during later ones
            Order.objects.exclude(next_check_at=None).update(next_check_at=timezone.now() + LATER)

        # 1. plain forwarding
        ids = [place(1, quantity="100") for _ in range(n)]
        unsent = Order.objects.filter(pk__in=ids, provider_order_id__isnull=True)
        plain = n / _until("plain forwarding", lambda: not unsent.exists(), worker.forward_pass)

        # 2. drip-feed run by the panel
        def drip_batch(count: int) -> list[int]:
            return [place(3, quantity="100", runs=str(RUNS), interval="1") for _ in range(count)]

        def one_round() -> None:
            worker.dripfeed_pass()
            worker.forward_pass()

        rest()
        ids = drip_batch(parents)
        upstream = Order.objects.filter(parent_id__in=ids, provider_order_id__isnull=False)
        seconds = _until(
            "drip-feed runs",
            lambda: upstream.order_by().values("parent_id").distinct().count() == len(ids),
            one_round,
        )
        drip = parents / seconds
        rest()
        ids = drip_batch(min(parents, worker.config.forward_batch))
        with CaptureQueriesContext(connection) as drip_q:
            worker.dripfeed_pass()
        made = Order.objects.filter(parent_id__in=ids).count()
        with CaptureQueriesContext(connection) as fwd_q:
            sent = worker.forward_pass()
        drip_queries, fwd_queries = len(drip_q) / max(made, 1), len(fwd_q) / max(sent, 1)

        # 3. subscriptions at the provider
        rest()
        sim.configure(post_interval=0.05)
        ids = [
            place(16, username=f"bench{next(links)}", min="100", max="200", delay="0",
                  posts=str(POSTS))
            for _ in range(m)
        ]  # fmt: skip
        subs = Order.objects.filter(pk__in=ids)
        posts = Order.objects.filter(parent_id__in=ids)
        upstream_at: list[tuple[float, int]] = []

        def sub_round() -> None:
            if not worker.run_once():
                time.sleep(worker.config.idle_sleep)
            if not upstream_at and not subs.filter(provider_order_id__isnull=True).exists():
                upstream_at.append((time.monotonic(), posts.count()))

        sim.reset_stats()
        _until("subscriptions", lambda: not subs.exclude(status="Completed").exists(), sub_round)
        end = time.monotonic()
        status_calls = sim.stats()["requests"].get("status", 0)
        charged = posts.count()
        followed = (charged - upstream_at[0][1]) / (end - upstream_at[0][0])
    finally:
        worker.close()
        sim.stop()
        connections.close_all()

    rows_out = [
        ("plain orders forwarded / s", f"{plain:.0f}", "1.00x"),
        ("drip-feed runs sent / s", f"{drip:.0f}", f"{drip / plain:.2f}x"),
        ("queries / run, dripfeed_pass", f"{drip_queries:.1f}", f"{drip_queries / fwd_queries:.2f}x"
         f" (forward_pass: {fwd_queries:.1f} / order)"),
        (f"posts charged / s ({charged} of {m * POSTS})", f"{followed:.0f}",
         f"{followed / plain:.2f}x"),
        ("upstream status calls / post", f"{status_calls / max(charged, 1):.2f}", "-"),
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in [("measure", "value", "vs plain forwarding"), *rows_out])
              for i in range(3)]  # fmt: skip
    for i, row in enumerate([("measure", "value", "vs plain forwarding"), *rows_out]):
        print("  | " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print("  |" + "|".join("-" * (w + 2) for w in widths) + "|")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycles", description=__doc__)
    add_arguments(parser)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
