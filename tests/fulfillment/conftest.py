"""A real simulator on loopback, a provider pointing at it, and a worker to drive orders."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from smmpanel.catalog.models import Service, ServiceType
from smmpanel.fulfillment.worker import Worker, WorkerConfig
from smmpanel.orders.models import Order
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place
from smmpanel.providers.client import ProviderClient
from smmpanel.providers.models import Provider
from smmpanel.providers.services import import_preview, provider_create, services_import
from smmpanel.simulator.server import Simulator

_links = itertools.count(1)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(speed=1e6, start_delay=0.02, seed=7, hang_seconds=1.0)
    simulator.start()
    yield simulator
    simulator.stop()


def fast_config(**overrides: object) -> WorkerConfig:
    config = WorkerConfig(
        poll_interval=timedelta(0),
        lease=timedelta(seconds=30),
        backoff_base=timedelta(0),
        idle_sleep=0.01,
        # In-process tests share the test's transaction, which other threads cannot see;
        # the threaded sender has its own test on a transactional database.
        send_concurrency=1,
        timeout=httpx.Timeout(connect=1.0, read=0.4, write=1.0, pool=1.0),
    )
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


@pytest.fixture
def provider(sim: Simulator) -> Provider:
    provider = provider_create(name="Sim", api_url=sim.url, api_key=sim.key)
    with ProviderClient(sim.url, sim.key) as client:
        rows = import_preview(
            provider=provider, remote=client.services(), markup=("percent", Decimal(20))
        )
    services_import(provider=provider, rows=rows, markup=("percent", Decimal(20)))
    return provider


@pytest.fixture
def worker() -> Iterator[Worker]:
    w = Worker(name="test-worker", config=fast_config())
    yield w
    w.close()


def service_of(provider: Provider, type: str) -> Service:
    return Service.objects.filter(provider=provider, type=type, enabled=True).order_by("id").first()


def new_link() -> str:
    return f"https://example.com/p/{next(_links)}-{time.monotonic_ns()}"


#: Parameters of one valid order of each type, besides link (from the simulator's catalog).
PARAMS: dict[str, dict[str, str]] = {
    ServiceType.DEFAULT: {"quantity": "100"},
    ServiceType.PACKAGE: {},
    ServiceType.CUSTOM_COMMENTS: {"comments": "nice\ngreat\nwow"},
    ServiceType.CUSTOM_COMMENTS_PACKAGE: {"comments": "a\nb"},
    ServiceType.MENTIONS_WITH_HASHTAGS: {
        "quantity": "100",
        "usernames": "u1\nu2",
        "hashtags": "#a\n#b",
    },
    ServiceType.MENTIONS_CUSTOM_LIST: {"usernames": "alice\nbob"},
    ServiceType.MENTIONS_HASHTAG: {"quantity": "100", "hashtag": "#sun"},
    ServiceType.MENTIONS_USER_FOLLOWERS: {"quantity": "100", "username": "star"},
    ServiceType.MENTIONS_MEDIA_LIKERS: {"quantity": "100", "media": "https://example.com/m/1"},
    ServiceType.COMMENT_LIKES: {"quantity": "20", "username": "commenter"},
    ServiceType.COMMENT_REPLIES: {"username": "commenter", "comments": "one\ntwo"},
    ServiceType.POLL: {"quantity": "20", "answer_number": "2"},
    ServiceType.INVITES_FROM_GROUPS: {"quantity": "100", "groups": "g1\ng2"},
}


def place(customer, service: Service, **params: str) -> Order:
    return order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest.from_text({"link": new_link(), **PARAMS[service.type], **params}),
    )


def drive(worker: Worker, done: Callable[[], bool], *, seconds: float = 20.0) -> None:
    """Run worker rounds until `done()` (or fail after `seconds`)."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            stuck = list(
                Order.objects.exclude(status__in=["Completed", "Partial", "Canceled"])
                .exclude(forward_state="held")
                .values(
                    "id", "status", "forward_state", "last_error", "next_check_at", "lease_owner",
                    "cancel_requested_at", "cancel_sent_at",
                )[:10]
            )  # fmt: skip
            pytest.fail(f"the worker did not get there in {seconds}s; unfinished: {stuck}")
        if not worker.run_once():
            time.sleep(0.01)


def all_final(*orders: Order) -> Callable[[], bool]:
    ids = [o.pk for o in orders]

    def check() -> bool:
        return not Order.objects.filter(
            pk__in=ids, status__in=["Pending", "In progress", "Processing"]
        ).exists()

    return check
