"""What `order_place` charges, for every one of the 14 types, to the last 0.00001.

Expected charges are written out by hand (rate x charged quantity / 1000, half-up to 5
places); several are chosen so that banker's rounding would give a different answer.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from smmpanel.accounts.models import Customer, CustomerRate
from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.billing.services import InsufficientFunds
from smmpanel.catalog.models import ServiceType
from smmpanel.core import errors
from smmpanel.core.errors import PanelError
from smmpanel.orders.models import Order
from smmpanel.orders.states import OrderStatus
from tests.factories import make_customer, make_service
from tests.orders.helpers import LINK, T, balance_of, entries, params_for, place

pytestmark = pytest.mark.django_db

START = Decimal("10")

#: (type, rate, charged quantity, charge). Quantity types order 100 units; list types send
#: five lines; package types one package whatever `quantity` says.
CHARGE_CASES = [
    (T.DEFAULT, "0.12345", 100, "0.01235"),  # 0.012345: banker's gives 0.01234
    (T.PACKAGE, "7.34567", 1, "7.34567"),
    (T.CUSTOM_COMMENTS, "2.501", 5, "0.01251"),  # 0.012505: banker's gives 0.01250
    (T.CUSTOM_COMMENTS_PACKAGE, "3.00001", 1, "3.00001"),
    (T.MENTIONS_WITH_HASHTAGS, "0.12345", 100, "0.01235"),
    (T.MENTIONS_CUSTOM_LIST, "2.501", 5, "0.01251"),
    (T.MENTIONS_HASHTAG, "0.12345", 100, "0.01235"),
    (T.MENTIONS_USER_FOLLOWERS, "0.12345", 100, "0.01235"),
    (T.MENTIONS_MEDIA_LIKERS, "0.12345", 100, "0.01235"),
    (T.COMMENT_LIKES, "0.12345", 100, "0.01235"),
    (T.COMMENT_REPLIES, "2.501", 5, "0.01251"),
    (T.POLL, "0.12345", 100, "0.01235"),
    (T.INVITES_FROM_GROUPS, "0.12345", 100, "0.01235"),
]
QUANTITY_TYPES = [t for t, _, qty, _ in CHARGE_CASES if qty == 100]


def test_the_cases_cover_every_type():
    covered = {case[0] for case in CHARGE_CASES} | {T.SUBSCRIPTIONS}
    assert covered == set(ServiceType)
    assert len(ServiceType) == 14


def _fresh_customer(balance: Decimal = START) -> Customer:
    customer, _ = make_customer(str(balance))
    return customer


@pytest.mark.parametrize(("type", "rate", "charged", "charge"), CHARGE_CASES)
def test_order_place_charges_each_type(type, rate, charged, charge):
    customer = _fresh_customer()
    service = make_service(type=type, rate=rate, min=1, max=10000)
    params = params_for(type)
    if type not in QUANTITY_TYPES:
        params["quantity"] = "999"  # a client may send it anyway; it is not what is charged

    order = place(customer, service, **params)

    expected = Decimal(charge)
    assert customer.balance == START - expected  # the caller's object is kept up to date
    assert balance_of(customer) == START - expected
    stored = Order.objects.get(pk=order.pk)
    assert stored.type == type
    assert stored.status == OrderStatus.PENDING
    assert stored.rate == Decimal(rate)
    assert stored.charged_quantity == charged
    assert stored.remains == charged
    assert stored.charge == expected
    [entry] = entries(order, EntryKind.CHARGE)
    assert entry.amount == -expected
    assert entry.balance_after == START - expected
    assert entry.customer_id == customer.pk
    assert not entries(order, EntryKind.REFUND)


@pytest.mark.parametrize("type", QUANTITY_TYPES)
def test_quantity_types_charge_rate_times_quantity_over_1000(type):
    customer = _fresh_customer()
    service = make_service(type=type, rate="0.90")
    order = place(customer, service, **params_for(type, quantity="309"))
    assert order.charge == Decimal("0.27810")
    assert balance_of(customer) == Decimal("9.72190")


@pytest.mark.parametrize(
    ("rate", "quantity", "charge"),
    [
        ("0.12345", "100", "0.01235"),
        ("0.081", "5", "0.00041"),
        ("0.005", "5", "0.00003"),
        ("0.00001", "500", "0.00001"),
        ("0.33333", "15", "0.00500"),
        ("1250.12345", "3", "3.75037"),  # 3.75037035
    ],
)
def test_default_order_rounds_half_up(rate, quantity, charge):
    customer = _fresh_customer()
    service = make_service(rate=rate, min=1)
    order = place(customer, service, link=LINK, quantity=quantity)
    assert order.charge == Decimal(charge)
    [entry] = entries(order, EntryKind.CHARGE)
    assert entry.amount == -Decimal(charge)


def test_dripfeed_charges_quantity_times_runs_up_front():
    customer = _fresh_customer()
    service = make_service(rate="0.04175", dripfeed=True)
    order = place(customer, service, link=LINK, quantity="100", runs="3", interval="5")
    assert (order.quantity, order.runs, order.interval) == (100, 3, 5)
    assert order.charged_quantity == 300
    assert order.remains == 300
    assert order.charge == Decimal("0.01253")  # 0.012525 half-up
    assert balance_of(customer) == START - Decimal("0.01253")


def test_subscription_is_placed_without_a_charge():
    customer = _fresh_customer()
    service = make_service(type=T.SUBSCRIPTIONS, rate="0.12345")
    order = place(customer, service, **params_for(T.SUBSCRIPTIONS))
    assert order.status == OrderStatus.ACTIVE
    assert order.charge == Decimal("0")
    assert order.charged_quantity == 0
    assert (order.sub_min, order.sub_max, order.sub_delay) == (100, 200, 0)
    assert balance_of(customer) == START
    assert not LedgerEntry.objects.filter(order_id=order.pk).exists()


def test_subscription_needs_funds_for_its_largest_post():
    # price(0.12345, 200) = 0.02469: the balance must hold that much to start watching.
    service = make_service(type=T.SUBSCRIPTIONS, rate="0.12345")
    poor = _fresh_customer(Decimal("0.02468"))
    with pytest.raises(InsufficientFunds):
        place(poor, service, **params_for(T.SUBSCRIPTIONS))
    assert not Order.objects.filter(customer=poor).exists()
    enough = _fresh_customer(Decimal("0.02469"))
    assert place(enough, service, **params_for(T.SUBSCRIPTIONS)).status == OrderStatus.ACTIVE
    assert balance_of(enough) == Decimal("0.02469")


def test_rate_is_the_customers_discounted_rate():
    customer = _fresh_customer()
    Customer.objects.filter(pk=customer.pk).update(discount_percent=Decimal("10"))
    customer.refresh_from_db()
    service = make_service(rate="0.90")
    order = place(customer, service, link=LINK, quantity="309")
    assert order.rate == Decimal("0.81000")
    assert order.charge == Decimal("0.25029")  # 0.81 x 309 / 1000 = 0.25029


def test_rate_is_the_customers_custom_rate_over_any_discount():
    customer = _fresh_customer()
    Customer.objects.filter(pk=customer.pk).update(discount_percent=Decimal("50"))
    customer.refresh_from_db()
    service = make_service(rate="0.90", min=1)
    CustomerRate.objects.create(customer=customer, service=service, rate=Decimal("0.33333"))
    order = place(customer, service, link=LINK, quantity="15")
    assert order.rate == Decimal("0.33333")
    assert order.charge == Decimal("0.00500")  # 0.00499995 half-up


def test_a_balance_of_exactly_the_charge_pays_for_the_order():
    customer = _fresh_customer(Decimal("0.27810"))
    service = make_service(rate="0.90")
    place(customer, service, link=LINK, quantity="309")
    assert balance_of(customer) == Decimal("0")


def test_a_balance_one_hundred_thousandth_short_places_nothing():
    customer = _fresh_customer(Decimal("0.27809"))
    service = make_service(rate="0.90")
    with pytest.raises(InsufficientFunds) as caught:
        place(customer, service, link=LINK, quantity="309")
    assert caught.value.message == errors.NOT_ENOUGH_FUNDS
    assert balance_of(customer) == Decimal("0.27809")
    assert not Order.objects.filter(customer=customer).exists()
    assert LedgerEntry.objects.filter(customer=customer).count() == 1  # the deposit


def test_a_free_service_places_an_order_without_a_ledger_entry():
    customer = _fresh_customer()
    service = make_service(rate="0")
    order = place(customer, service, link=LINK, quantity="100")
    assert order.charge == Decimal("0")
    assert not LedgerEntry.objects.filter(order_id=order.pk).exists()
    assert balance_of(customer) == START


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"link": LINK, "quantity": "9"}, "Quantity less than minimal 10"),
        ({"link": LINK, "quantity": "10001"}, "Quantity more than maximum 10000"),
        ({"link": "", "quantity": "100"}, errors.BAD_LINK),
        ({"link": LINK, "quantity": "100.5"}, "Invalid quantity: expected a whole number"),
    ],
)
def test_a_refused_order_charges_nothing(params, message):
    customer = _fresh_customer()
    service = make_service(rate="0.90")
    with pytest.raises(PanelError) as caught:
        place(customer, service, **params)
    assert caught.value.message == message
    assert balance_of(customer) == START
    assert not Order.objects.filter(customer=customer).exists()


def test_a_second_order_for_an_active_link_charges_nothing():
    customer = _fresh_customer()
    service = make_service(rate="0.90")
    place(customer, service, link=LINK, quantity="1000")
    with pytest.raises(PanelError) as caught:
        place(customer, service, link=LINK, quantity="1000")
    assert caught.value.message == errors.ACTIVE_ORDER_LINK
    assert balance_of(customer) == START - Decimal("0.9")
    assert Order.objects.filter(customer=customer).count() == 1
