"""Two writers racing to end one order: one wins, and the money comes back exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.billing.services import ledger_verify
from smmpanel.core import errors
from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.orders.models import Order, OrderEvent
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_cancel_request, order_transition
from smmpanel.orders.states import OrderStatus
from tests.concurrency.race import post_all, race
from tests.conftest import postgres_only
from tests.factories import make_customer, make_service

S = OrderStatus
ROUNDS = 4  # fresh orders per case: more chances for the two threads to really overlap
#: What each final status refunds of an order of 1000 units at 0.90 with 309 undelivered.
REFUND = {S.CANCELED: Decimal("0.90000"), S.PARTIAL: Decimal("0.27810")}


def _orders(n: int, *, status: S = S.PENDING):
    customer, key = make_customer("100")
    service = make_service(rate="0.90", cancel=True)
    orders = []
    from smmpanel.orders.services import order_place

    for i in range(n):
        order = order_place(
            customer=customer,
            service_id=service.pk,
            params=OrderRequest(link=f"https://instagram.com/p/r{i}", quantity=1000),
        )
        if status != S.PENDING:
            order = order_transition(order_id=order.pk, to=status, actor="test")
        orders.append(order)
    return customer, key, orders


def _refunds(order: Order) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(order_id=order.pk, kind=EntryKind.REFUND))


#: Every pair of refund-causing moves, each raced on ROUNDS fresh orders.
PAIRS = [
    (S.CANCELED, S.CANCELED),
    (S.PARTIAL, S.PARTIAL),
    (S.CANCELED, S.PARTIAL),
    (S.PARTIAL, S.CANCELED),
]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refund_transitions_refund_once():
    # One test for all pairs: each transactional test costs a flush of every table.
    customer, _, orders = _orders(ROUNDS * len(PAIRS), status=S.IN_PROGRESS)
    for i, order in enumerate(orders):
        first, second = PAIRS[i % len(PAIRS)]
        results = race(
            [
                lambda to=to, pk=order.pk: order_transition(
                    order_id=pk, to=to, actor="racer", remains=309
                )
                for to in (first, second)
            ]
        )
        winners = [r for r in results if isinstance(r, Order)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1, (first, second, results)
        assert len(losers) == 1 and type(losers[0]) is ConflictError, (first, second, results)
        won = winners[0].status
        [refund] = _refunds(order)
        assert refund.amount == REFUND[won]
        assert Order.objects.get(pk=order.pk).status == won
        assert (
            OrderEvent.objects.filter(order_id=order.pk, kind="status", to_status=won).count() == 1
        )
    spent = Decimal("0.9") * len(orders)
    refunded = sum(
        LedgerEntry.objects.filter(customer=customer, kind=EntryKind.REFUND).values_list(
            "amount", flat=True
        ),
        Decimal(0),
    )
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("100") - spent + refunded
    assert ledger_verify() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_cancel_requests_of_a_pending_order_refund_once():
    customer, _, orders = _orders(ROUNDS)
    for order in orders:
        results = race(
            [
                lambda pk=order.pk: order_cancel_request(
                    customer=customer, order_id=pk, actor="racer"
                )
            ]
            * 2
        )
        canceled = [r for r in results if isinstance(r, Order)]
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(canceled) == 1 and canceled[0].status == S.CANCELED, results
        assert len(refused) == 1, results
        assert isinstance(refused[0], PanelError), results
        assert refused[0].message == errors.CANCEL_FINISHED
        [refund] = _refunds(order)
        assert refund.amount == Decimal("0.90000")
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("100")
    assert ledger_verify() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_cancel_requests_of_a_running_order_record_one_request():
    customer, _, orders = _orders(ROUNDS, status=S.IN_PROGRESS)
    for order in orders:
        results = race(
            [
                lambda pk=order.pk: order_cancel_request(
                    customer=customer, order_id=pk, actor="racer"
                )
            ]
            * 2
        )
        requested = [r for r in results if isinstance(r, Order)]
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(requested) == 1, results
        assert len(refused) == 1 and refused[0].message == errors.CANCEL_REQUESTED, results
        assert OrderEvent.objects.filter(order_id=order.pk, kind="cancel_requested").count() == 1
        assert not _refunds(order)
    assert ledger_verify() == []


@postgres_only
def test_concurrent_cancels_over_http_refund_once(live_server):
    customer, key, orders = _orders(2)
    [order, other] = orders
    body = {"key": key, "action": "cancel", "orders": str(order.pk)}
    single = {"key": key, "action": "cancel", "order": str(order.pk)}

    replies = post_all(f"{live_server.url}/api/v2", [body, single, body, single, body])

    items = [item for reply in replies for item in reply]
    assert all(item["order"] == order.pk for item in items), replies
    assert [item["cancel"] for item in items].count(1) == 1, replies
    assert [item for item in items if item["cancel"] != 1] == [
        {"order": order.pk, "cancel": {"error": errors.CANCEL_FINISHED}}
    ] * 4
    [refund] = _refunds(order)
    assert refund.amount == Decimal("0.90000")
    assert Order.objects.get(pk=other.pk).status == S.PENDING
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("100") - Decimal("0.9")
    assert ledger_verify() == []
