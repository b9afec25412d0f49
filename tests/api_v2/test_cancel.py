"""`cancel`: always a list, with `orders` or a lone `order`; refunds through the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.catalog.models import ServiceType
from smmpanel.orders.models import Order
from smmpanel.orders.services import order_progress, order_transition
from smmpanel.orders.states import OrderStatus
from tests.api_v2.conftest import LINK, sci
from tests.factories import make_service

S = OrderStatus
INCORRECT = {"error": "Incorrect order ID"}


@pytest.fixture
def service(db):
    return make_service(rate="1.00", cancel=True)


def place(caller, service, n: int = 0) -> int:
    return caller.add(service, link=f"{LINK}/{n}", quantity="1000")


def status_of(order: int) -> str:
    return Order.objects.get(pk=order).status


@pytest.mark.django_db
def test_cancel_orders_is_a_list_with_inline_errors(me, other, service):
    a = place(me, service, 1)
    theirs = place(other, service, 2)
    b = place(me, service, 3)
    reply = me("cancel", orders=f"9999999,{a},{theirs},{b},abc")
    assert reply == [
        {"order": 9999999, "cancel": INCORRECT},
        {"order": a, "cancel": 1},
        {"order": theirs, "cancel": INCORRECT},
        {"order": b, "cancel": 1},
        {"order": "abc", "cancel": INCORRECT},
    ]
    assert status_of(theirs) == "Pending"
    assert other("balance")["balance"] == "99.00000"


@pytest.mark.django_db
def test_cancel_a_pending_order_refunds_it_in_full(me, service):
    order = place(me, service)
    assert me("balance")["balance"] == "99.00000"
    assert me("cancel", orders=str(order)) == [{"order": order, "cancel": 1}]
    assert me("status", order=str(order))["status"] == "Canceled"
    assert me("balance")["balance"] == "100.00000"
    refunds = LedgerEntry.objects.filter(order_id=order, kind=EntryKind.REFUND)
    assert [r.amount for r in refunds] == [Decimal("1.00000")]


@pytest.mark.django_db
def test_cancel_with_order_alone_answers_a_one_element_list(me, service):
    order = place(me, service)
    assert me("cancel", order=str(order)) == [{"order": order, "cancel": 1}]
    assert status_of(order) == "Canceled"


@pytest.mark.django_db
def test_cancel_with_order_alone_errors_stay_in_the_list(me, other, service):
    theirs = place(other, service)
    assert me("cancel", order=str(theirs)) == [{"order": theirs, "cancel": INCORRECT}]
    assert me("cancel", order="abc") == [{"order": "abc", "cancel": INCORRECT}]


@pytest.mark.django_db
def test_cancel_accepts_whole_floats_and_echoes_numbers(me, service):
    a, b = place(me, service, 1), place(me, service, 2)
    assert me("cancel", orders=f"{a}.0, {sci(b)}") == [
        {"order": a, "cancel": 1},
        {"order": b, "cancel": 1},
    ]
    assert me("balance")["balance"] == "100.00000"


@pytest.mark.django_db
def test_cancel_without_ids_is_an_error(me):
    reply = me("cancel")
    assert set(reply) == {"error"}
    assert "order" in reply["error"]


@pytest.mark.django_db
def test_cancel_a_running_order_is_a_request_the_fulfiller_confirms(me, service):
    order = place(me, service)
    order_progress(order_id=order, actor="test", start_count=5)
    assert me("cancel", orders=str(order)) == [{"order": order, "cancel": 1}]
    assert me("status", order=str(order))["status"] == "In progress"
    assert me("balance")["balance"] == "99.00000"
    again = me("cancel", orders=str(order))
    assert again == [
        {"order": order, "cancel": {"error": "Cancel is already requested for this order"}}
    ]
    order_transition(order_id=order, to=S.PARTIAL, actor="test", remains=400)
    assert me("status", order=str(order))["status"] == "Partial"
    assert me("balance")["balance"] == "99.40000"


@pytest.mark.django_db
def test_cancel_request_confirmed_as_canceled_refunds_everything(me, service):
    order = place(me, service)
    order_transition(order_id=order, to=S.PROCESSING, actor="test")
    assert me("cancel", order=str(order)) == [{"order": order, "cancel": 1}]
    order_transition(order_id=order, to=S.CANCELED, actor="test")
    assert me("balance")["balance"] == "100.00000"


@pytest.mark.django_db
def test_cancel_not_available_for_the_service(me):
    service = make_service(rate="1.00", cancel=False)
    order = place(me, service)
    assert me("cancel", orders=str(order)) == [
        {"order": order, "cancel": {"error": "Cancel is not available for this service"}}
    ]
    assert status_of(order) == "Pending"
    assert me("balance")["balance"] == "99.00000"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "remains"),
    [(S.COMPLETED, None), (S.PARTIAL, 100), (S.CANCELED, None)],
    ids=lambda v: getattr(v, "value", v),
)
def test_cancel_a_finished_order_is_refused_and_refunds_nothing_more(me, service, status, remains):
    order = place(me, service)
    order_transition(order_id=order, to=status, actor="test", remains=remains)
    balance = me("balance")
    assert me("cancel", orders=str(order)) == [
        {"order": order, "cancel": {"error": "Order is already finished"}}
    ]
    assert me("balance") == balance
    assert status_of(order) == status


@pytest.mark.django_db
def test_cancel_the_same_order_twice_in_one_request_refunds_once(me, service):
    order = place(me, service)
    assert me("cancel", orders=f"{order},{order}") == [
        {"order": order, "cancel": 1},
        {"order": order, "cancel": {"error": "Order is already finished"}},
    ]
    assert me("balance")["balance"] == "100.00000"


@pytest.mark.django_db
def test_cancel_a_subscription(me):
    service = make_service(type=ServiceType.SUBSCRIPTIONS, rate="1.00", cancel=True)
    sub = me.add(service, username="bob", min="10", max="20", delay="0")
    assert me("cancel", orders=str(sub)) == [{"order": sub, "cancel": 1}]
    assert me("status", order=str(sub))["status"] == "Canceled"
    assert me("balance")["balance"] == "100.00000"


@pytest.mark.django_db
def test_cancel_multi_up_to_100_and_101_is_an_error(me, service):
    order = place(me, service)
    too_many = ",".join([str(order)] + [str(900000000 + n) for n in range(100)])
    reply = me("cancel", orders=too_many)
    assert set(reply) == {"error"}
    assert status_of(order) == "Pending"
    reply = me("cancel", orders=",".join([str(order)] + [str(900000000 + n) for n in range(99)]))
    assert len(reply) == 100
    assert reply[0] == {"order": order, "cancel": 1}
