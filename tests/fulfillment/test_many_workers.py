"""Four real worker processes share one PostgreSQL queue, and one is killed mid-stream.

Rule 8 of the design, end to end: several workers never claim the same row, so no order
goes upstream twice; a killed worker's leases expire and its work comes back to the others;
the one send it may have had in flight is held for the operator, never resent blindly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.utils import timezone

from smmpanel.billing.services import ledger_verify
from smmpanel.catalog.models import ServiceType
from smmpanel.core import crypto
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.states import FINAL_STATUSES
from smmpanel.simulator.server import Simulator
from tests.conftest import panel_processes, postgres_only
from tests.factories import make_customer
from tests.fulfillment.conftest import place, service_of

F_ = ForwardState
ORDERS = 2000
WORKERS = 4
LEASE_SECONDS = 3
KILL_AFTER_FORWARDED = 300
SMMPANEL = Path(sys.executable).with_name("smmpanel")
WORKER_ARGS = ("--poll-seconds", "0.2", "--idle-seconds", "0.05")

pytestmark = [postgres_only, panel_processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fernet_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """One key, set in this process and handed to the workers, so they can read the
    provider's API key that this process encrypts."""
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SMMPANEL_FERNET_KEYS", key)
    crypto._fernet.cache_clear()
    yield key
    crypto._fernet.cache_clear()  # monkeypatch restores the environment right after


@pytest.fixture
def async_commit() -> Iterator[None]:
    """Commits without waiting for the WAL flush, here and in the workers: it only matters
    if the database server itself crashes, which is not what this test is about, and it
    spares a disk flush per order placed, sent and completed."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET synchronous_commit")


@pytest.fixture
def sim(fernet_keys: str) -> Iterator[Simulator]:
    # Overrides the package's `sim`, so its `provider` fixture points here (and, through
    # `fernet_keys`, encrypts the API key with the key the workers get).
    simulator = Simulator(
        speed=1e6, start_delay=0.05, seed=8, duplicate_link_check=False, balance="1000000"
    )
    simulator.start()
    yield simulator
    simulator.stop()


def database_url() -> str:
    db = settings.DATABASES["default"]  # at test time NAME is the test database's
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def wait_for(what: str, done: Callable[[], bool], *, seconds: float, every: float = 0.05):
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def test_four_workers_share_the_queue_and_survive_a_kill(
    sim, provider, fernet_keys, async_commit, tmp_path
):
    assert connection.vendor == "postgresql"
    customer, _ = make_customer("1000")  # 2,000 x 100 units at 1.08 per 1000 = 216.00
    service = service_of(provider, ServiceType.DEFAULT)

    started = time.monotonic()
    orders = [place(customer, service, quantity="100") for _ in range(ORDERS)]
    placing = time.monotonic() - started
    print(f"\nplaced {ORDERS} orders in {placing:.1f}s ({ORDERS / placing:.0f}/s)")
    ids = [o.pk for o in orders]
    links = {o.pk: o.link for o in orders}
    assert len(set(links.values())) == ORDERS
    assert Order.objects.filter(pk__in=ids, forward_state=F_.QUEUED).count() == ORDERS

    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SMMPANEL_VAR": str(settings.VAR_DIR),
        "SMMPANEL_FERNET_KEYS": fernet_keys,
        "SMMPANEL_LEASE_SECONDS": str(LEASE_SECONDS),
        "DJANGO_SETTINGS_MODULE": "smmpanel.settings",
        "PGOPTIONS": f"{os.environ.get('PGOPTIONS', '')} -c synchronous_commit=off".strip(),
        "LOG_LEVEL": "WARNING",  # not a line per HTTP request; the worker's own still show
    }
    names = [f"w{n}" for n in range(1, WORKERS + 1)]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    victim: str | None = None
    try:
        spawned = timezone.now()
        for name in names:
            out = (tmp_path / f"{name}.out").open("wb")
            procs[name] = subprocess.Popen(
                [str(SMMPANEL), "worker", *WORKER_ARGS, "--name", name],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            out.close()

        def sent() -> int:
            for name, proc in procs.items():
                if name != victim:
                    assert proc.poll() is None, (
                        f"{name} exited early: " + (tmp_path / f"{name}.out").read_text()[-3000:]
                    )
            return Order.objects.filter(pk__in=ids, provider_order_id__isnull=False).count()

        wait_for("the first forwards", lambda: sent() >= KILL_AFTER_FORWARDED, seconds=60)

        # Kill the worker holding the most forward leases: its batch is what must come back.
        holding = Counter(
            Order.objects.filter(
                forward_state__in=[F_.QUEUED, F_.SENDING], lease_owner__in=names
            ).values_list("lease_owner", flat=True)
        )
        victim = holding.most_common(1)[0][0] if holding else names[0]
        os.kill(procs[victim].pid, signal.SIGKILL)
        procs[victim].wait(timeout=10)
        killed_at = time.monotonic()
        abandoned = list(
            Order.objects.filter(
                pk__in=ids, lease_owner=victim, forward_state__in=[F_.QUEUED, F_.SENDING]
            ).values_list("id", "forward_state")
        )
        print(
            f"killed {victim} at {sent()} forwarded; it held {holding[victim]} forward leases, "
            f"{len(abandoned)} still leased after the kill "
            f"({sum(1 for _, s in abandoned if s == F_.SENDING)} sending)"
        )

        def settled() -> bool:
            busy = Order.objects.filter(pk__in=ids, forward_state__in=[F_.QUEUED, F_.SENDING])
            running = Order.objects.filter(pk__in=ids).exclude(status__in=FINAL_STATUSES)
            return not busy.exists() and not running.exclude(forward_state=F_.HELD).exists()

        wait_for("every order to settle", settled, seconds=120, every=0.2)
        finished = time.monotonic()
        print(f"settled {finished - killed_at:.1f}s after the kill")
        # Past every lease the dead worker could have held, nothing is leased or in flight.
        time.sleep(max(0.0, LEASE_SECONDS + 0.5 - (finished - killed_at)))
        assert not Order.objects.filter(pk__in=ids, forward_state=F_.SENDING).exists()
        still = Order.objects.filter(pk__in=ids).exclude(lease_owner="")
        assert not still.exists(), list(still.values("id", "lease_owner", "lease_until"))[:10]
        assert not Order.objects.filter(pk__in=ids, lease_until__isnull=False).exists()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for name, proc in procs.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
                pytest.fail(f"{name} did not stop on SIGTERM")

    for name, proc in procs.items():
        if name != victim:
            assert proc.returncode == 0, (tmp_path / f"{name}.out").read_text()[-3000:]

    # Nothing went upstream twice.
    stats = sim.stats()
    created = stats["created_by_link"]
    twice = {link: n for link, n in created.items() if n > 1}
    assert not twice, twice
    assert set(created) <= set(links.values())

    rows = list(
        Order.objects.filter(pk__in=ids).values_list(
            "id", "status", "forward_state", "provider_order_id"
        )
    )
    held = [r for r in rows if r[2] == F_.HELD]
    # At most the one send the killed worker had in flight, upstream at most once, and
    # held because that worker was lost (no other send failed: the simulator has no faults).
    in_flight = {order_id for order_id, state in abandoned if state == F_.SENDING}
    assert len(held) <= 1, held
    for order_id, status, _, provider_order_id in held:
        assert order_id in in_flight, (order_id, in_flight)
        assert (status, provider_order_id) == ("Pending", None)
        assert created.get(links[order_id], 0) <= 1
        reasons = OrderEvent.objects.filter(order_id=order_id, kind="held")
        assert [e.data.get("reason") for e in reasons] == ["worker lost while sending"]
    for order_id, status, state, provider_order_id in rows:
        if state == F_.HELD:
            continue
        assert (status, state) == ("Completed", F_.SENT), (order_id, status, state)
        assert provider_order_id is not None
        upstream = stats["orders"][str(provider_order_id)]
        assert upstream["link"] == links[order_id] and upstream["status"] == "Completed"
    assert len({r[3] for r in rows if r[3] is not None}) == ORDERS - len(held)

    # The abandoned batch came back: the others forwarded it once its leases expired.
    by_order = dict(
        OrderEvent.objects.filter(order_id__in=ids, kind="forwarded").values_list(
            "order_id", "actor"
        )
    )
    assert len(by_order) == ORDERS - len(held)
    for order_id, state in abandoned:
        if state == F_.QUEUED:
            assert by_order[order_id] != f"worker:{victim}", order_id
    # The work was shared (events keep the worker's name; the lease owner is cleared).
    actors = Counter(by_order.values())
    print("forwarded by:", dict(sorted(actors.items())))
    assert set(actors) <= {f"worker:{name}" for name in names}
    assert len(actors) >= 3
    assert ledger_verify() == []

    # Throughput: forwards per second, from spawning the workers to the last forward.
    times = list(
        OrderEvent.objects.filter(order_id__in=ids, kind="forwarded")
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    span = (times[-1] - spawned).total_seconds()
    busy = (times[-1] - times[0]).total_seconds() or 1e-9
    print(
        f"throughput: {len(times)} forwarded in {span:.1f}s since spawn "
        f"({len(times) / span:.0f}/s); {len(times) / busy:.0f}/s from first to last forward; "
        f"held {len(held)}; simulator requests {stats['requests']}"
    )
