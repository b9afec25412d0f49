"""Every hot API v2 action runs a small, fixed number of queries, whatever the size of the
catalog or of the id list.

Counted through the whole request stack (the `api` fixture posts to /api/v2), inside the
test's transaction, so the savepoint pair of each `transaction.atomic` is counted too.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from smmpanel.catalog.models import Category, ServiceType
from smmpanel.orders.models import Order
from smmpanel.orders.services import (
    order_transition,
    refill_request,
)
from smmpanel.orders.states import OrderStatus
from smmpanel.orders.subscriptions import subscription_deliver_post
from tests.factories import make_customer, make_service
from tests.orders.helpers import params_for, place

pytestmark = pytest.mark.django_db

#: The pinned counts. Raise one only with a reason; lower them gladly.
#: key lookup (1) + the action's reads.
BALANCE = 1
#: key + one query for the catalog (custom rates as a subquery, categories joined).
SERVICES = 2
#: key + the customer's orders among the ids (+ 1 for the children of subscriptions).
STATUS = 2
STATUS_WITH_SUBSCRIPTIONS = 3
#: key, service, then inside the transaction: savepoint, lock customer, active-link check,
#: insert order, update balance, insert ledger entry, insert event, release savepoint.
ADD = 10


@pytest.fixture
def caller(api):
    customer, key = make_customer("1000")

    def call(action, **params):
        return api(key, action, **params)

    call.customer = customer
    return call


def _orders(customer, n: int, type: str = ServiceType.DEFAULT) -> list[int]:
    """`n` orders of `customer`, written in one go: the rows `status` reads, nothing more
    (free, so no ledger entries are owed)."""
    service = make_service(type=type, rate="0")
    subscription = type == ServiceType.SUBSCRIPTIONS
    rows = Order.objects.bulk_create(
        Order(
            customer=customer,
            service=service,
            type=type,
            status=OrderStatus.ACTIVE if subscription else OrderStatus.PENDING,
            link=f"https://x.test/{i}",
            quantity=None if subscription else 100,
            charged_quantity=0 if subscription else 100,
            remains=0 if subscription else 100,
            rate=Decimal("0"),
        )
        for i in range(n)
    )
    return [row.pk for row in rows]


def test_balance(caller, django_assert_num_queries):
    with django_assert_num_queries(BALANCE):
        reply = caller("balance")
    assert reply == {"balance": "1000.00000", "currency": "USD"}


@pytest.mark.parametrize("size", [1, 50])
def test_services_does_not_grow_with_the_catalog(caller, size, django_assert_num_queries):
    from smmpanel.accounts.models import CustomerRate

    categories = [Category.objects.create(name=f"Category {i}") for i in range(3)]
    services = [
        make_service(category=categories[i % 3], type=list(ServiceType)[i % 14])
        for i in range(size)
    ]
    # Custom prices for some: they must not cost a query per service either.
    for service in services[::2]:
        CustomerRate.objects.create(customer=caller.customer, service=service, rate=Decimal("1"))
    with django_assert_num_queries(SERVICES):
        reply = caller("services")
    assert len(reply) == size
    assert reply[0]["rate"] == "1.00"
    assert {item["category"] for item in reply} == {c.name for c in categories[:size]}


def test_add(caller, django_assert_num_queries):
    service = make_service(rate="0.90")
    with django_assert_num_queries(ADD):
        reply = caller("add", service=str(service.pk), link="https://x.test/a", quantity="309")
    assert Order.objects.get(pk=reply["order"]).charge == Decimal("0.27810")


def test_add_of_every_type_costs_the_same(caller, django_assert_max_num_queries):
    for type in ServiceType:
        service = make_service(type=type, rate="0.90", min=1)
        with django_assert_max_num_queries(ADD):
            reply = caller("add", service=str(service.pk), **params_for(type))
        assert set(reply) == {"order"}, (type, reply)


def test_add_refused_for_funds_stops_early(api, django_assert_num_queries):
    _, key = make_customer("0.1")
    service = make_service(rate="0.90")
    # key, service, savepoint, lock, active-link check, rollback to savepoint (+ release)
    with django_assert_num_queries(7):
        reply = api(key, "add", service=str(service.pk), link="https://x.test/a", quantity="309")
    assert reply == {"error": "Not enough funds on balance"}


def test_status_of_one_order(caller, django_assert_num_queries):
    [order_id] = _orders(caller.customer, 1)
    with django_assert_num_queries(STATUS):
        reply = caller("status", order=str(order_id))
    assert reply["status"] == "Pending"


@pytest.mark.parametrize("n", [1, 100])
def test_status_of_many_orders_is_one_query_for_any_number(caller, n, django_assert_num_queries):
    ids = _orders(caller.customer, n)
    with django_assert_num_queries(STATUS):
        reply = caller("status", orders=",".join(map(str, ids)))
    assert len(reply) == n
    assert all(item["status"] == "Pending" for item in reply.values())


def test_status_counts_for_1_and_100_ids_are_equal(caller):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = _orders(caller.customer, 100)
    counts = []
    for chosen in (ids[:1], ids):
        with CaptureQueriesContext(connection) as ctx:
            caller("status", orders=",".join(map(str, chosen)))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == STATUS


@pytest.mark.parametrize("n", [1, 100])
def test_status_with_subscriptions_adds_one_query(caller, n, django_assert_num_queries):
    # n ids in all: one paid subscription with a delivered post, plain orders and
    # more subscriptions without posts.
    plain = _orders(caller.customer, min(3, n - 1))
    subs = _orders(caller.customer, n - 1 - len(plain), type=ServiceType.SUBSCRIPTIONS)
    service = make_service(type=ServiceType.SUBSCRIPTIONS, rate="0.90")
    paid = place(caller.customer, service, **params_for(ServiceType.SUBSCRIPTIONS))
    child = subscription_deliver_post(
        order_id=paid.pk, link="https://x.test/post", quantity=100, actor="test"
    )
    ids = [*subs, *plain, paid.pk]
    with django_assert_num_queries(STATUS_WITH_SUBSCRIPTIONS):
        reply = caller("status", orders=",".join(map(str, ids)))
    assert len(reply) == n
    assert reply[str(paid.pk)]["orders"] == [child.pk]
    assert all(reply[str(pk)]["orders"] == [] for pk in subs)


def test_status_of_unknown_and_foreign_ids_costs_the_same(caller, django_assert_num_queries):
    stranger, _ = make_customer("10")
    foreign = _orders(stranger, 3)
    tokens = [str(i) for i in foreign] + ["999999999", "abc", "2.5", "0"]
    with django_assert_num_queries(STATUS):
        reply = caller("status", orders=",".join(tokens))
    assert all(item == {"error": "Incorrect order ID"} for item in reply.values())


def test_refill_status_of_many_refills_is_a_fixed_number_of_queries(caller):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = _orders(caller.customer, 20)
    Order.objects.filter(pk__in=ids).update(service=make_service(rate="0", refill=True))
    refills = []
    for order_id in ids:
        order_transition(order_id=order_id, to=OrderStatus.COMPLETED, actor="test")
        refills.append(refill_request(customer=caller.customer, order_id=order_id).pk)
    counts = []
    for chosen in (refills[:1], refills):
        with CaptureQueriesContext(connection) as ctx:
            reply = caller("refill_status", refills=",".join(map(str, chosen)))
        assert len(reply) == len(chosen)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
