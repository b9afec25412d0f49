"""What the worker does when a provider's answer to `add` is a fault, through the real forward
path (claim, mark as sending, ask, record) against a provider whose network edge is an
httpx.MockTransport.

The rule under test: an `add` that surely never reached the provider's API (a redirect, a
proxy's or firewall's 4xx, a rate limiter's 429, a load balancer's 503 with Retry-After) is
sent again after a pause and never held; one that may have reached it (a read timeout, a
bare 5xx from the application, an unreadable 200) is held for the operator, never resent.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
import time_machine
from django.utils import timezone

from smmpanel.billing.models import LedgerEntry
from smmpanel.fulfillment.worker import Worker
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place
from smmpanel.providers.client import ProviderClient
from smmpanel.providers.models import Provider
from smmpanel.providers.services import provider_create
from tests.factories import make_customer, make_service
from tests.fulfillment.conftest import fast_config

pytestmark = pytest.mark.django_db

Handler = Callable[[httpx.Request], httpx.Response]
_links = itertools.count(1)


class Upstream:
    """The provider's side of the wire: answers each `add` with the next canned reply (the
    last one for ever after) and counts them; the worker's other calls get a plain answer."""

    def __init__(self, *replies: Handler) -> None:
        self.replies = list(replies)
        self.adds = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {name: values[0] for name, values in parse_qs(request.content.decode()).items()}
        if form["action"] == "balance":
            return httpx.Response(200, json={"balance": "100.00", "currency": "USD"})
        if form["action"] == "status":
            ids = form["orders"].split(",")
            return httpx.Response(200, json={i: {"status": "In progress"} for i in ids})
        self.adds += 1
        reply = self.replies[min(self.adds, len(self.replies)) - 1]
        return reply(request)


def answer(status: int, **kwargs: object) -> Handler:
    return lambda request: httpx.Response(status, **kwargs)  # type: ignore[arg-type]


def accepted(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"order": 777})


def raising(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.fixture
def provider() -> Provider:
    return provider_create(
        name="Upstream", api_url="https://upstream.test/api/v2", api_key="upstream-key"
    )


@pytest.fixture
def upstream() -> Upstream:
    return Upstream(accepted)


@pytest.fixture
def worker(upstream: Upstream) -> Iterator[Worker]:
    def client_factory(provider: Provider) -> ProviderClient:
        transport = httpx.MockTransport(upstream)
        return ProviderClient(provider.api_url, provider.api_key(), transport=transport)

    w = Worker(name="fault-worker", config=fast_config(), client_factory=client_factory)
    yield w
    w.close()


def place(provider: Provider) -> Order:
    service = make_service(rate="1.00")
    service.provider = provider
    service.provider_service_id = 42
    service.save()
    customer, _ = make_customer("10")
    return order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(link=f"https://example.com/p/{next(_links)}", quantity=1000),
    )


def refunds(order: Order) -> int:
    return LedgerEntry.objects.filter(order=order, kind="refund").count()


def make_due(order: Order) -> None:
    """The order's backoff is over."""
    Order.objects.filter(pk=order.pk).update(next_check_at=timezone.now())


def later(minutes: float) -> time_machine.travel:
    """The clock moves on: past any wait a provider asked for."""
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True)


TURNED_AWAY = {
    "301 redirect": answer(301, headers={"location": "https://upstream.test/api/v2/"}),
    "302 to a login page": answer(302, headers={"location": "https://upstream.test/login"}),
    "403 from a proxy": answer(403, html="<h1>403 Forbidden</h1>cloudflare"),
    "404": answer(404, html="<h1>Not Found</h1>"),
    "429 rate limited": answer(429, html="Too Many Requests"),
    "503 with Retry-After": answer(503, headers={"retry-after": "30"}, html="Maintenance"),
    "521 origin refused (Cloudflare)": answer(521, html="Web server is down"),
}

MAY_HAVE_REACHED = {
    "read timeout": raising(httpx.ReadTimeout("timed out")),
    "connection dropped after sending": raising(httpx.RemoteProtocolError("disconnected")),
    "500 HTML": answer(500, html="<h1>Internal Server Error</h1>"),
    "502 from a gateway": answer(502, html="<h1>502 Bad Gateway</h1>"),
    "503 without Retry-After": answer(503, html="Service Unavailable"),
    "malformed JSON": answer(200, content=b'{"order": 12'),
    "HTML at 200": answer(200, html="<html><title>Login</title></html>"),
}


@pytest.mark.parametrize("reply", TURNED_AWAY.values(), ids=TURNED_AWAY.keys())
def test_an_add_turned_away_before_the_api_is_retried_with_backoff_not_held(
    provider, upstream, worker, reply
):
    upstream.replies = [reply]
    order = place(provider)
    before = timezone.now()
    worker.run_once()

    order.refresh_from_db()
    assert (order.status, order.forward_state) == ("Pending", ForwardState.QUEUED)
    assert order.next_check_at is not None and order.next_check_at > before
    assert order.attempts == 1 and order.last_error
    assert refunds(order) == 0
    assert Provider.objects.get(pk=provider.pk).last_error
    assert not order.events.filter(kind="held").exists()

    # The provider answers again: once its wait is over, the order goes out, once.
    upstream.replies = [accepted]
    with later(16):
        worker.run_once()
    order.refresh_from_db()
    assert (order.forward_state, order.provider_order_id) == (ForwardState.SENT, 777)
    assert order.last_error == "" and Provider.objects.get(pk=provider.pk).last_error == ""
    assert upstream.adds == 2


@pytest.mark.parametrize("reply", MAY_HAVE_REACHED.values(), ids=MAY_HAVE_REACHED.keys())
def test_an_add_that_may_have_reached_the_provider_is_held_never_resent(
    provider, upstream, worker, reply
):
    upstream.replies = [reply]
    order = place(provider)
    for _ in range(3):
        worker.run_once()
        make_due(order)

    order.refresh_from_db()
    assert (order.status, order.forward_state) == ("Pending", ForwardState.HELD)
    assert order.last_error and refunds(order) == 0
    assert order.events.filter(kind="held").count() == 1
    assert upstream.adds == 1


def test_retry_after_is_the_backoff_within_bounds(provider, upstream, worker):
    order = place(provider)
    for hours, (retry_after, expected) in enumerate([("30", 30), ("0", 1), ("86400", 15 * 60)]):
        upstream.replies = [answer(429, headers={"retry-after": retry_after})]
        with later(60 * hours):
            before = timezone.now()
            make_due(order)
            worker.run_once()
        order.refresh_from_db()
        assert order.forward_state == ForwardState.QUEUED
        waited = order.next_check_at - before
        assert timedelta(seconds=expected) <= waited < timedelta(seconds=expected + 5), retry_after
    assert upstream.adds == 3


def test_a_retry_after_date_is_honoured(provider, upstream, worker):
    order = place(provider)
    when = timezone.now() + timedelta(seconds=120)
    date = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    upstream.replies = [answer(503, headers={"retry-after": date})]
    worker.run_once()
    order.refresh_from_db()
    assert order.forward_state == ForwardState.QUEUED
    assert abs(order.next_check_at - when) < timedelta(seconds=5)


def test_a_provider_that_asked_to_wait_is_not_asked_again_for_other_orders_meanwhile(
    provider, upstream, worker
):
    upstream.replies = [answer(429, headers={"retry-after": "60"})]
    orders = [place(provider) for _ in range(5)]
    worker.run_once()
    assert upstream.adds == 1  # the first order was turned away; the other four waited
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        assert order.forward_state == ForwardState.QUEUED
        assert order.next_check_at > timezone.now() + timedelta(seconds=50)
        assert "429" in order.last_error
    assert sum(o.attempts for o in Order.objects.filter(pk__in=[o.pk for o in orders])) == 1


def test_a_provider_turning_orders_away_for_ever_is_retried_for_ever_and_shown(
    provider, upstream, worker
):
    """The panel never gives up on its own on an order that surely never arrived: the
    backoff stops growing at its cap, and the operator sees why on the order (its error, its
    attempts, one event when the trouble started) and on the provider."""
    upstream.replies = [answer(403, html="<h1>Access denied</h1>")]
    worker.config.backoff_base = timedelta(seconds=5)
    order = place(provider)
    for _ in range(20):
        make_due(order)
        worker.run_once()
    order.refresh_from_db()
    assert (order.status, order.forward_state) == ("Pending", ForwardState.QUEUED)
    assert order.attempts == 20 and upstream.adds == 20 and refunds(order) == 0
    assert "HTTP 403" in order.last_error
    assert "HTTP 403" in Provider.objects.get(pk=provider.pk).last_error
    waiting = OrderEvent.objects.filter(order=order, kind="retrying")
    assert waiting.count() == 1 and "HTTP 403" in waiting.get().data["reason"]
    # The backoff grows to its cap (15 min, plus up to a fifth of jitter) and stays there.
    waited = order.next_check_at - timezone.now()
    assert timedelta(minutes=14) < waited <= timedelta(minutes=18)

    # The trouble changes: a new event says so; then it recovers.
    upstream.replies = [answer(429), accepted]
    upstream.adds = 0
    make_due(order)
    worker.run_once()
    assert waiting.count() == 2
    make_due(order)
    worker.run_once()
    order.refresh_from_db()
    assert order.forward_state == ForwardState.SENT
