"""Refunds: Canceled gives the whole charge back, Partial the undelivered part at the order's
own rate, and each happens exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.accounts.models import Customer, CustomerRate
from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.catalog.models import Service
from smmpanel.core import errors
from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.core.money import price
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.services import order_cancel_request, order_transition, refund_amount
from smmpanel.orders.states import OrderStatus
from tests.factories import make_customer, make_service
from tests.orders.helpers import LINK, T, balance_of, entries, params_for, place

S = OrderStatus
START = Decimal("10")
db = pytest.mark.django_db


def _order(rate: str = "0.90", quantity: str = "1000", **service_kw):
    customer, _ = make_customer(str(START))
    service = make_service(rate=rate, min=1, **service_kw)
    order = place(customer, service, link=LINK, quantity=quantity)
    return customer, service, order


def _refunds(order: Order) -> list[LedgerEntry]:
    return entries(order, EntryKind.REFUND)


# --- Partial -----------------------------------------------------------------------------


@db
def test_partial_refunds_remains_at_the_orders_rate_after_the_service_rate_changes():
    customer, service, order = _order(rate="0.90", quantity="1000")
    assert order.charge == Decimal("0.90000")
    Service.objects.filter(pk=service.pk).update(rate=Decimal("5.00"))
    order_transition(order_id=order.pk, to=S.IN_PROGRESS, actor="test")

    done = order_transition(order_id=order.pk, to=S.PARTIAL, actor="test", remains=309)

    assert done.status == S.PARTIAL
    [refund] = _refunds(order)
    assert refund.amount == Decimal("0.27810")  # 0.90 x 309 / 1000, not 5.00 x 309 / 1000
    assert refund.cause == "partial"
    assert balance_of(customer) == START - Decimal("0.90") + Decimal("0.27810")
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.remains, stored.rate) == (S.PARTIAL, 309, Decimal("0.9"))
    assert stored.finished_at is not None


@db
def test_partial_refund_ignores_later_discount_and_custom_rate_changes():
    customer, _ = make_customer(str(START))
    Customer.objects.filter(pk=customer.pk).update(discount_percent=Decimal("10"))
    customer.refresh_from_db()
    service = make_service(rate="0.90")
    order = place(customer, service, link=LINK, quantity="1000")
    assert order.rate == Decimal("0.81")
    Customer.objects.filter(pk=customer.pk).update(discount_percent=Decimal("50"))
    CustomerRate.objects.create(customer=customer, service=service, rate=Decimal("0.01"))

    order_transition(order_id=order.pk, to=S.PARTIAL, actor="test", remains=500)

    [refund] = _refunds(order)
    assert refund.amount == Decimal("0.40500")


@db
@pytest.mark.parametrize(
    ("rate", "quantity", "remains", "refund"),
    [
        ("0.12345", "1000", 100, "0.01235"),  # 0.012345 half-up (banker's: 0.01234)
        ("0.90", "1000", 1000, "0.90000"),  # nothing delivered: the whole charge
        ("0.90", "1000", 1, "0.00090"),
        ("0.00001", "1000", 500, "0.00001"),  # 0.000005 half-up
        ("0.33333", "1000", 15, "0.00500"),
    ],
)
def test_partial_refund_is_rounded_half_up(rate, quantity, remains, refund):
    customer, _, order = _order(rate=rate, quantity=quantity)
    order_transition(order_id=order.pk, to=S.PARTIAL, actor="test", remains=remains)
    [entry] = _refunds(order)
    assert entry.amount == Decimal(refund)
    assert balance_of(customer) == START - order.charge + Decimal(refund)


@db
def test_partial_dripfeed_refunds_remains_of_all_runs():
    customer, _ = make_customer(str(START))
    service = make_service(rate="0.90", dripfeed=True)
    order = place(customer, service, link=LINK, quantity="100", runs="3", interval="10")
    assert order.charge == Decimal("0.27000")
    # As when the provider runs the drip-feed and reports it Partial.
    Order.objects.filter(pk=order.pk).update(forward_state=ForwardState.SENT)
    order_transition(order_id=order.pk, to=S.PARTIAL, actor="test", remains=150)
    [entry] = _refunds(order)
    assert entry.amount == Decimal("0.13500")


@db
def test_partial_of_a_counted_list_refunds_the_undelivered_lines():
    customer, _ = make_customer(str(START))
    service = make_service(type=T.CUSTOM_COMMENTS, rate="2.501", min=1)
    order = place(customer, service, **params_for(T.CUSTOM_COMMENTS))
    assert (order.charged_quantity, order.charge) == (5, Decimal("0.01251"))
    order_transition(order_id=order.pk, to=S.PARTIAL, actor="test", remains=2)
    [entry] = _refunds(order)
    assert entry.amount == Decimal("0.00500")  # 2.501 x 2 / 1000 = 0.005002


@db
@pytest.mark.parametrize("type", [T.PACKAGE, T.CUSTOM_COMMENTS_PACKAGE])
def test_partial_package_refunds_the_package(type):
    customer, _ = make_customer(str(START))
    service = make_service(type=type, rate="7.34567", min=1)
    order = place(customer, service, **params_for(type))
    order_transition(order_id=order.pk, to=S.PARTIAL, actor="test", remains=1)
    [entry] = _refunds(order)
    assert entry.amount == Decimal("7.34567")
    assert balance_of(customer) == START


@db
@pytest.mark.parametrize("remains", [None, 0, 1001, -1])
def test_partial_needs_a_remains_within_the_order(remains):
    customer, _, order = _order(quantity="1000")
    with pytest.raises(PanelError):
        order_transition(order_id=order.pk, to=S.PARTIAL, actor="test", remains=remains)
    stored = Order.objects.get(pk=order.pk)
    assert stored.status == S.PENDING
    assert not _refunds(order)
    assert balance_of(customer) == START - Decimal("0.9")


# --- Canceled ----------------------------------------------------------------------------


@db
@pytest.mark.parametrize("before", [S.PENDING, S.IN_PROGRESS, S.PROCESSING])
def test_canceled_refunds_the_whole_charge(before):
    customer, _, order = _order(rate="0.12345", quantity="100")
    if before != S.PENDING:
        order_transition(order_id=order.pk, to=before, actor="test", remains=40)
    order_transition(order_id=order.pk, to=S.CANCELED, actor="test")
    [entry] = _refunds(order)
    assert entry.amount == Decimal("0.01235") == order.charge
    assert entry.cause == "canceled"
    assert balance_of(customer) == START
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.remains) == (S.CANCELED, 100)


@db
@pytest.mark.parametrize(
    "type", [T.DEFAULT, T.PACKAGE, T.CUSTOM_COMMENTS, T.MENTIONS_CUSTOM_LIST, T.POLL]
)
def test_canceled_refunds_every_type_in_full(type):
    customer, _ = make_customer(str(START))
    service = make_service(type=type, rate="2.501", min=1)
    order = place(customer, service, **params_for(type))
    order_transition(order_id=order.pk, to=S.CANCELED, actor="test")
    [entry] = _refunds(order)
    assert entry.amount == order.charge
    assert balance_of(customer) == START


@db
def test_completed_refunds_nothing():
    customer, _, order = _order()
    order_transition(order_id=order.pk, to=S.COMPLETED, actor="test")
    assert not _refunds(order)
    assert Order.objects.get(pk=order.pk).remains == 0
    assert balance_of(customer) == START - Decimal("0.9")


# --- exactly once ------------------------------------------------------------------------


@db
@pytest.mark.parametrize(
    ("first", "second"),
    [
        (S.CANCELED, S.CANCELED),
        (S.PARTIAL, S.PARTIAL),
        (S.CANCELED, S.PARTIAL),
        (S.PARTIAL, S.CANCELED),
        (S.COMPLETED, S.CANCELED),
        (S.COMPLETED, S.PARTIAL),
    ],
)
def test_a_second_final_transition_conflicts_and_refunds_nothing(first, second):
    customer, _, order = _order(quantity="1000")
    order_transition(order_id=order.pk, to=first, actor="test", remains=309)
    balance = balance_of(customer)
    refunds = len(_refunds(order))
    events = OrderEvent.objects.filter(order_id=order.pk).count()

    with pytest.raises(ConflictError):
        order_transition(order_id=order.pk, to=second, actor="test", remains=100)

    assert balance_of(customer) == balance
    assert len(_refunds(order)) == refunds <= 1
    assert OrderEvent.objects.filter(order_id=order.pk).count() == events
    assert Order.objects.get(pk=order.pk).status == first


@db
def test_a_stale_expected_status_conflicts_and_refunds_nothing():
    _, _, order = _order()
    order_transition(order_id=order.pk, to=S.IN_PROGRESS, actor="test")
    with pytest.raises(ConflictError):
        order_transition(order_id=order.pk, to=S.CANCELED, expected=S.PENDING, actor="test")
    assert not _refunds(order)
    assert Order.objects.get(pk=order.pk).status == S.IN_PROGRESS


@db
def test_a_transition_of_an_unknown_order_is_refused():
    with pytest.raises(PanelError) as caught:
        order_transition(order_id=987654321, to=S.CANCELED, actor="test")
    assert caught.value.message == errors.INCORRECT_ORDER


# --- the customer's cancel ---------------------------------------------------------------


@db
def test_cancel_request_of_a_pending_order_refunds_it_once():
    customer, _, order = _order(rate="0.12345", quantity="100")
    canceled = order_cancel_request(customer=customer, order_id=order.pk)
    assert canceled.status == S.CANCELED
    assert balance_of(customer) == START
    with pytest.raises(PanelError) as caught:
        order_cancel_request(customer=customer, order_id=order.pk)
    assert caught.value.message == errors.CANCEL_FINISHED
    assert len(_refunds(order)) == 1
    assert balance_of(customer) == START


@db
def test_cancel_request_of_a_running_order_waits_for_the_fulfiller():
    customer, _, order = _order(rate="0.90", quantity="1000")
    order_transition(order_id=order.pk, to=S.IN_PROGRESS, actor="test")
    requested = order_cancel_request(customer=customer, order_id=order.pk)
    assert requested.status == S.IN_PROGRESS
    assert requested.cancel_requested_at is not None
    assert not _refunds(order)
    with pytest.raises(PanelError) as caught:
        order_cancel_request(customer=customer, order_id=order.pk)
    assert caught.value.message == errors.CANCEL_REQUESTED
    # The fulfiller confirms what it could not deliver.
    order_transition(order_id=order.pk, to=S.PARTIAL, actor="fulfiller", remains=600)
    [entry] = _refunds(order)
    assert entry.amount == Decimal("0.54000")


@db
def test_cancel_request_of_another_customers_order_is_refused():
    _, _, order = _order()
    stranger, _ = make_customer("1")
    with pytest.raises(PanelError) as caught:
        order_cancel_request(customer=stranger, order_id=order.pk)
    assert caught.value.message == errors.INCORRECT_ORDER
    assert Order.objects.get(pk=order.pk).status == S.PENDING


@db
def test_cancel_request_where_the_service_does_not_allow_it():
    customer, _, order = _order(cancel=False)
    with pytest.raises(PanelError) as caught:
        order_cancel_request(customer=customer, order_id=order.pk)
    assert caught.value.message == errors.CANCEL_UNAVAILABLE
    assert not _refunds(order)


# --- refund_amount, as a pure function ---------------------------------------------------


@given(
    rate=st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n).scaleb(-5)),
    charged=st.integers(min_value=1, max_value=1_000_000_000),
    data=st.data(),
)
def test_refund_amount_partial_is_price_of_remains_and_never_more_than_the_charge(
    rate, charged, data
):
    remains = data.draw(st.integers(min_value=1, max_value=charged))
    order = Order(type=T.DEFAULT, rate=rate, charged_quantity=charged, charge=price(rate, charged))
    refund = refund_amount(order, S.PARTIAL, remains)
    assert refund == price(rate, remains)
    assert 0 <= refund <= order.charge
    assert refund_amount(order, S.PARTIAL, charged) == order.charge
    assert refund_amount(order, S.CANCELED, remains) == order.charge
    assert refund_amount(order, S.COMPLETED, 0) == 0
