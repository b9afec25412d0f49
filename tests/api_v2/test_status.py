"""`status`: one order (an object) or many (an object keyed by each id exactly as sent)."""

from __future__ import annotations

import pytest

from smmpanel.catalog.models import Service, ServiceType
from smmpanel.orders.models import ForwardState, Order
from smmpanel.orders.services import (
    order_cancel_request,
    order_progress,
    order_transition,
)
from smmpanel.orders.states import OrderStatus
from smmpanel.orders.subscriptions import subscription_deliver_post
from smmpanel.providers.services import provider_create
from tests.api_v2.conftest import LINK, err, next_order_id_will_be, sci
from tests.factories import make_service

S = OrderStatus
INCORRECT = {"error": "Incorrect order ID"}


@pytest.fixture
def service(db):
    return make_service(rate="0.90", min=10, max=100000)


def place(caller, service, n: int = 0, quantity: str = "1000") -> int:
    return caller.add(service, link=f"{LINK}/{n}", quantity=quantity)


@pytest.mark.django_db
def test_status_single_exact_shape(me, service):
    order = place(me, service)
    assert me("status", order=str(order)) == {
        "charge": "0.90000",
        "start_count": "0",
        "status": "Pending",
        "remains": "1000",
        "currency": "USD",
    }


@pytest.mark.django_db
def test_status_follows_the_order_through_its_life(me, service):
    order = place(me, service, quantity="10000")
    order_progress(order_id=order, actor="test", start_count=3572)
    assert me("status", order=str(order)) == {
        "charge": "9.00000",
        "start_count": "3572",
        "status": "In progress",
        "remains": "10000",
        "currency": "USD",
    }
    order_progress(order_id=order, actor="test", remains=4000)
    assert me("status", order=str(order))["remains"] == "4000"
    order_transition(order_id=order, to=S.PROCESSING, actor="test")
    assert me("status", order=str(order))["status"] == "Processing"
    order_transition(order_id=order, to=S.PARTIAL, actor="test", remains=157)
    assert me("status", order=str(order)) == {
        "charge": "9.00000",
        "start_count": "3572",
        "status": "Partial",
        "remains": "157",
        "currency": "USD",
    }
    # A Partial refunds what was not delivered: 157 x 0.90 / 1000 = 0.14130.
    assert me("balance")["balance"] == "91.14130"


@pytest.mark.django_db
def test_status_completed_has_no_remains(me, service):
    order = place(me, service)
    order_transition(order_id=order, to=S.COMPLETED, actor="test", start_count=10)
    assert me("status", order=str(order)) == {
        "charge": "0.90000",
        "start_count": "10",
        "status": "Completed",
        "remains": "0",
        "currency": "USD",
    }


@pytest.mark.django_db
def test_status_canceled_keeps_its_charge_and_refunds_it(me, service):
    order = place(me, service)
    order_transition(order_id=order, to=S.IN_PROGRESS, actor="test")
    order_transition(order_id=order, to=S.CANCELED, actor="test")
    assert me("status", order=str(order)) == {
        "charge": "0.90000",
        "start_count": "0",
        "status": "Canceled",
        "remains": "1000",
        "currency": "USD",
    }
    assert me("balance")["balance"] == "100.00000"


@pytest.mark.django_db
def test_status_drip_feed_reports_runs(me):
    # A drip-feed the provider takes itself: its progress comes from the provider.
    service = make_service(rate="1.00", dripfeed=True)
    provider = provider_create(name="P", api_url="http://127.0.0.1:9/api/v2", api_key="k")
    Service.objects.filter(pk=service.pk).update(
        provider=provider, provider_service_id=1, provider_dripfeed=True
    )
    order = me.add(service, link=LINK, quantity="100", runs="4", interval="30")
    assert Order.objects.get(pk=order).forward_state == ForwardState.QUEUED
    # As the worker records the provider's answer.
    order_transition(order_id=order, to=S.IN_PROGRESS, actor="test", completed_runs=1, remains=300)
    assert me("status", order=str(order)) == {
        "charge": "0.40000",
        "start_count": "0",
        "status": "In progress",
        "remains": "300",
        "currency": "USD",
        "runs": "4",
        "completed_runs": "1",
    }
    order_transition(order_id=order, to=S.COMPLETED, actor="test")
    status = me("status", order=str(order))
    assert (status["completed_runs"], status["remains"]) == ("4", "0")


@pytest.mark.django_db
def test_status_subscription_reports_posts_and_orders(me):
    service = make_service(type=ServiceType.SUBSCRIPTIONS, rate="2.00", min=10, max=1000)
    sub = me.add(service, username="bob", min="100", max="200", delay="0", posts="2")
    first = subscription_deliver_post(
        order_id=sub, link="https://instagram.com/p/1", quantity=150, actor="test"
    )
    assert me("status", order=str(sub)) == {
        "charge": "0.30000",
        "status": "Active",
        "currency": "USD",
        "posts": "1",
        "orders": [first.pk],
        "expiry": None,
    }
    assert me("status", order=str(first.pk))["status"] == "Pending"
    second = subscription_deliver_post(
        order_id=sub, link="https://instagram.com/p/2", quantity=100, actor="test"
    )
    multi = me("status", orders=f"{sub},{second.pk}")
    assert multi[str(sub)] == {
        "charge": "0.50000",
        "status": "Completed",
        "currency": "USD",
        "posts": "2",
        "orders": [first.pk, second.pk],
        "expiry": None,
    }
    assert multi[str(second.pk)]["charge"] == "0.20000"
    assert me("balance")["balance"] == "99.50000"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.PAUSED, S.EXPIRED, S.CANCELED], ids=lambda s: s.value)
def test_status_subscription_states(me, status):
    service = make_service(type=ServiceType.SUBSCRIPTIONS, rate="2.00", min=10, max=1000)
    sub = me.add(service, username="bob", min="100", max="200", delay="0")
    order_transition(order_id=sub, to=status, actor="test")
    assert me("status", order=str(sub))["status"] == status.value


@pytest.mark.django_db
def test_status_single_bad_id_is_incorrect_order_id(me, service):
    order = place(me, service)
    for token in ("", " ", "abc", "0", "-1", "1.5", "99999999", "1e999", f"{order}.5"):
        assert me("status", order=token) == err("Incorrect order ID"), token


@pytest.mark.django_db
def test_status_without_order_is_incorrect_order_id(me):
    assert me("status") == err("Incorrect order ID")


@pytest.mark.django_db
def test_status_of_another_customers_order_is_incorrect_order_id(me, other, service):
    theirs = place(other, service)
    assert me("status", order=str(theirs)) == err("Incorrect order ID")
    assert me("status", orders=str(theirs)) == {str(theirs): INCORRECT}
    assert other("status", order=str(theirs))["status"] == "Pending"


@pytest.mark.django_db
def test_status_single_accepts_whole_floats(me, service):
    order = place(me, service)
    expected = me("status", order=str(order))
    for token in (f"{order}.0", f"{order}.000", sci(order), f"{order}e0", f" {order} "):
        assert me("status", order=token) == expected, token


@pytest.mark.django_db
def test_status_big_id_echoed_by_a_go_client(me, service):
    next_order_id_will_be(12345678)
    order = place(me, service)
    assert order == 12345678
    assert me("status", order="1.2345678e+07")["status"] == "Pending"
    reply = me("status", orders="1.2345678e+07,12345678.0")
    assert list(reply) == ["1.2345678e+07", "12345678.0"]
    assert reply["1.2345678e+07"] == reply["12345678.0"] == me("status", order="12345678")


@pytest.mark.django_db
def test_status_million_as_go_prints_it(me, service):
    next_order_id_will_be(1000000)
    order = place(me, service)
    assert order == 1000000
    reply = me("status", orders="1e+06")
    assert list(reply) == ["1e+06"]
    assert reply["1e+06"]["charge"] == "0.90000"


@pytest.mark.django_db
def test_status_multi_exact_shape_with_inline_errors(me, other, service):
    a = place(me, service, 1)
    b = place(me, service, 2, quantity="500")
    theirs = place(other, service, 3)
    order_transition(order_id=b, to=S.COMPLETED, actor="test")
    reply = me("status", orders=f"{a},{theirs},{b},999999999")
    assert reply == {
        str(a): {
            "charge": "0.90000",
            "start_count": "0",
            "status": "Pending",
            "remains": "1000",
            "currency": "USD",
        },
        str(theirs): INCORRECT,
        str(b): {
            "charge": "0.45000",
            "start_count": "0",
            "status": "Completed",
            "remains": "0",
            "currency": "USD",
        },
        "999999999": INCORRECT,
    }
    assert list(reply) == [str(a), str(theirs), str(b), "999999999"]


@pytest.mark.django_db
def test_status_multi_is_keyed_by_the_token_as_sent(me, service):
    order = place(me, service)
    tokens = [f"{order}.0", sci(order), "abc", "0", "-5"]
    reply = me("status", orders=",".join(tokens))
    assert list(reply) == tokens
    assert reply[f"{order}.0"]["status"] == "Pending"
    assert reply[sci(order)] == reply[f"{order}.0"]
    assert reply["abc"] == reply["0"] == reply["-5"] == INCORRECT


@pytest.mark.django_db
def test_status_multi_with_spaces_and_blank_items(me, service):
    a, b = place(me, service, 1), place(me, service, 2)
    reply = me("status", orders=f" {a} ,  {b},, ")
    assert list(reply) == [str(a), str(b)]
    assert reply[str(a)]["status"] == reply[str(b)]["status"] == "Pending"


@pytest.mark.django_db
def test_status_multi_with_one_id_is_still_keyed(me, service):
    order = place(me, service)
    reply = me("status", orders=str(order))
    assert reply == {str(order): me("status", order=str(order))}


@pytest.mark.django_db
def test_status_multi_only_unknown_ids_is_an_object_of_errors(me):
    assert me("status", orders="1,2,3") == {"1": INCORRECT, "2": INCORRECT, "3": INCORRECT}


@pytest.mark.django_db
def test_status_multi_wins_over_single(me, service):
    a, b = place(me, service, 1), place(me, service, 2)
    assert list(me("status", order=str(a), orders=str(b))) == [str(b)]


@pytest.mark.django_db
def test_status_multi_up_to_100_ids(me, service):
    order = place(me, service)
    tokens = [str(order)] + [str(n) for n in range(900000000, 900000099)]
    reply = me("status", orders=",".join(tokens))
    assert len(reply) == 100
    assert reply[str(order)]["status"] == "Pending"
    assert all(reply[t] == INCORRECT for t in tokens[1:])


@pytest.mark.django_db
def test_status_multi_101_ids_is_an_error(me, service):
    order = place(me, service)
    tokens = [str(order)] + [str(n) for n in range(900000000, 900000100)]
    reply = me("status", orders=",".join(tokens))
    assert set(reply) == {"error"}
    assert "100" in reply["error"]


@pytest.mark.django_db
def test_status_after_a_cancel_request(me, service):
    order = place(me, service)
    order_progress(order_id=order, actor="test", start_count=1)
    order_cancel_request(customer=me.customer, order_id=order)
    assert me("status", order=str(order))["status"] == "In progress"
