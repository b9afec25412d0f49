"""Concurrent refill requests for one order start exactly one refill."""

from __future__ import annotations

import pytest

from smmpanel.core import errors
from smmpanel.core.errors import PanelError
from smmpanel.orders.models import OrderEvent, Refill
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place, order_transition, refill_request
from smmpanel.orders.states import OrderStatus, RefillStatus
from tests.concurrency.race import post_all, race
from tests.conftest import postgres_only
from tests.factories import make_customer, make_service

REQUESTS = 10


def _completed_order(link: str = "https://instagram.com/p/refill"):
    customer, key = make_customer("10")
    service = make_service(rate="0.90", refill=True)
    order = order_place(
        customer=customer, service_id=service.pk, params=OrderRequest(link=link, quantity=1000)
    )
    order_transition(order_id=order.pk, to=OrderStatus.COMPLETED, actor="test")
    return customer, key, order


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_refill_requests_start_one_refill():
    customer, _, order = _completed_order()
    results = race(
        [lambda: refill_request(customer=customer, order_id=order.pk, actor="racer")] * REQUESTS
    )
    started = [r for r in results if isinstance(r, Refill)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(started) == 1, results
    assert all(type(r) is PanelError and r.message == errors.REFILL_RUNNING for r in refused), (
        results
    )
    assert len(refused) == REQUESTS - 1
    assert list(Refill.objects.filter(order=order).values_list("pk", flat=True)) == [started[0].pk]
    assert OrderEvent.objects.filter(order=order, kind="refill_requested").count() == 1


@postgres_only
def test_concurrent_refill_requests_over_http_start_one_refill(live_server):
    _, key, order = _completed_order()
    bodies = [{"key": key, "action": "refill", "order": str(order.pk)}] * REQUESTS

    replies = post_all(f"{live_server.url}/api/v2", bodies)

    started = [r for r in replies if set(r) == {"refill"}]
    assert len(started) == 1, replies
    assert replies.count({"error": errors.REFILL_RUNNING}) == REQUESTS - 1, replies
    [refill] = Refill.objects.filter(order=order)
    assert started[0] == {"refill": str(refill.pk)}
    assert refill.status == RefillStatus.PENDING
