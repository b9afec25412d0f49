"""`refill` and `refill_status`, single (objects) and multi (lists with inline errors)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from smmpanel.orders.models import Refill
from smmpanel.orders.services import order_transition, refill_transition
from smmpanel.orders.states import OrderStatus, RefillStatus
from tests.api_v2.conftest import LINK, err, sci
from tests.factories import make_service

S = OrderStatus
R = RefillStatus


def completed(caller, service, n: int = 0) -> int:
    order = caller.add(service, link=f"{LINK}/{n}", quantity="100")
    order_transition(order_id=order, to=S.COMPLETED, actor="test")
    return order


@pytest.fixture
def service(db):
    return make_service(rate="1.00", refill=True)


@pytest.mark.django_db
def test_refill_single_replies_the_refill_id_as_a_string(me, service):
    order = completed(me, service)
    reply = me("refill", order=str(order))
    assert list(reply) == ["refill"]
    assert type(reply["refill"]) is str
    refill = Refill.objects.get(order_id=order)
    assert reply == {"refill": str(refill.pk)}
    assert refill.customer_id == me.customer.pk
    assert refill.status == R.PENDING


@pytest.mark.django_db
def test_refill_costs_nothing(me, service):
    order = completed(me, service)
    before = me("balance")
    me("refill", order=str(order))
    assert me("balance") == before


@pytest.mark.django_db
def test_refill_single_bad_id(me, service):
    order = completed(me, service)
    for token in ("", "abc", "0", "-1", "1.5", "999999999", f"{order}.5"):
        assert me("refill", order=token) == err("Incorrect order ID"), token
    assert Refill.objects.count() == 0


@pytest.mark.django_db
def test_refill_without_order_is_incorrect_order_id(me):
    assert me("refill") == err("Incorrect order ID")


@pytest.mark.django_db
def test_refill_of_another_customers_order(me, other, service):
    theirs = completed(other, service)
    assert me("refill", order=str(theirs)) == err("Incorrect order ID")
    assert Refill.objects.count() == 0


@pytest.mark.django_db
def test_refill_accepts_whole_floats(me, service):
    order = completed(me, service)
    assert set(me("refill", order=sci(order))) == {"refill"}
    second = completed(me, service, 2)
    assert set(me("refill", order=f"{second}.0")) == {"refill"}


@pytest.mark.django_db
def test_refill_not_available_for_the_service(me):
    service = make_service(rate="1.00", refill=False)
    order = completed(me, service)
    assert me("refill", order=str(order)) == err("Refill is not available for this service")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "remains"),
    [(None, None), (S.IN_PROGRESS, None), (S.CANCELED, None)],
    ids=["Pending", "In progress", "Canceled"],
)
def test_refill_of_an_order_not_completed(me, service, status, remains):
    order = me.add(service, link=LINK, quantity="100")
    if status:
        order_transition(order_id=order, to=status, actor="test", remains=remains)
    assert me("refill", order=str(order)) == err("Order is not completed")


@pytest.mark.django_db
def test_a_partial_order_can_be_refilled_what_was_delivered_may_drop(me, service):
    order = me.add(service, link=LINK, quantity="100")
    order_transition(order_id=order, to=S.PARTIAL, actor="test", remains=10)
    reply = me("refill", order=str(order))
    assert set(reply) == {"refill"}
    assert Refill.objects.get(pk=int(reply["refill"])).order_id == order


@pytest.mark.django_db
def test_a_partial_order_window_counts_from_when_it_ended(me):
    service = make_service(rate="1.00", refill=True)
    service.refill_days = 7
    service.save(update_fields=["refill_days"])
    order = me.add(service, link=LINK, quantity="100")
    with time_machine.travel(timezone.now() + dt.timedelta(days=5), tick=False):
        order_transition(order_id=order, to=S.PARTIAL, actor="test", remains=10)
    with time_machine.travel(timezone.now() + dt.timedelta(days=11), tick=False):
        assert set(me("refill", order=str(order))) == {"refill"}
    with time_machine.travel(timezone.now() + dt.timedelta(days=13), tick=False):
        assert me("refill", order=str(order)) == err("Refill period is over")


@pytest.mark.django_db
def test_refill_period_over(me):
    service = make_service(rate="1.00", refill=True)
    service.refill_days = 30
    service.save(update_fields=["refill_days"])
    order = completed(me, service)
    with time_machine.travel(timezone.now() + dt.timedelta(days=29), tick=False):
        assert set(me("refill", order=str(order))) == {"refill"}
    refill_transition(refill_id=Refill.objects.get().pk, to=R.COMPLETED, actor="test")
    with time_machine.travel(timezone.now() + dt.timedelta(days=31), tick=False):
        assert me("refill", order=str(order)) == err("Refill period is over")


@pytest.mark.django_db
@pytest.mark.parametrize("running", [R.PENDING, R.IN_PROGRESS], ids=lambda s: s.value)
def test_refill_already_running(me, service, running):
    order = completed(me, service)
    first = int(me("refill", order=str(order))["refill"])
    if running != R.PENDING:
        refill_transition(refill_id=first, to=running, actor="test")
    assert me("refill", order=str(order)) == err("A refill is already in progress for this order")
    assert Refill.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("ended", [R.COMPLETED, R.REJECTED, R.ERROR], ids=lambda s: s.value)
def test_refill_again_after_the_last_one_ended(me, service, ended):
    order = completed(me, service)
    first = int(me("refill", order=str(order))["refill"])
    refill_transition(refill_id=first, to=ended, actor="test")
    second = me("refill", order=str(order))
    assert set(second) == {"refill"} and int(second["refill"]) != first


@pytest.mark.django_db
def test_refill_multi_is_a_list_with_numbers_and_inline_errors(me, other, service):
    a = completed(me, service, 1)
    pending = me.add(service, link=f"{LINK}/p", quantity="100")
    theirs = completed(other, service, 3)
    c = completed(me, service, 4)
    reply = me("refill", orders=f"{a},{theirs}, {pending},{c},abc")
    refills = {r.order_id: r.pk for r in Refill.objects.all()}
    assert reply == [
        {"order": a, "refill": refills[a]},
        {"order": theirs, "refill": {"error": "Incorrect order ID"}},
        {"order": pending, "refill": {"error": "Order is not completed"}},
        {"order": c, "refill": refills[c]},
        {"order": "abc", "refill": {"error": "Incorrect order ID"}},
    ]
    assert type(reply[0]["order"]) is int and type(reply[0]["refill"]) is int


@pytest.mark.django_db
def test_refill_multi_echoes_float_ids_as_numbers(me, service):
    a = completed(me, service)
    reply = me("refill", orders=f"{a}.0")
    assert reply == [{"order": a, "refill": Refill.objects.get().pk}]


@pytest.mark.django_db
def test_refill_multi_same_order_twice_refills_once(me, service):
    a = completed(me, service)
    reply = me("refill", orders=f"{a},{a}")
    assert reply == [
        {"order": a, "refill": Refill.objects.get().pk},
        {"order": a, "refill": {"error": "A refill is already in progress for this order"}},
    ]


@pytest.mark.django_db
def test_refill_multi_one_id_is_still_a_list(me, service):
    a = completed(me, service)
    assert me("refill", orders=str(a)) == [{"order": a, "refill": Refill.objects.get().pk}]


@pytest.mark.django_db
def test_refill_multi_101_ids_is_an_error_and_refills_nothing(me, service):
    a = completed(me, service)
    reply = me("refill", orders=",".join([str(a)] + [str(900000000 + n) for n in range(100)]))
    assert set(reply) == {"error"}
    assert Refill.objects.count() == 0
    assert len(me("refill", orders=",".join([str(a)] + [str(900000000 + n) for n in range(99)])))


# --- refill_status --------------------------------------------------------------------------


@pytest.mark.django_db
def test_refill_status_single_follows_the_refill(me, service):
    order = completed(me, service)
    refill = me("refill", order=str(order))["refill"]
    assert me("refill_status", refill=refill) == {"status": "Pending"}
    refill_transition(refill_id=int(refill), to=R.IN_PROGRESS, actor="test")
    assert me("refill_status", refill=refill) == {"status": "In progress"}
    refill_transition(refill_id=int(refill), to=R.COMPLETED, actor="test")
    assert me("refill_status", refill=refill) == {"status": "Completed"}


@pytest.mark.django_db
@pytest.mark.parametrize("ended", [R.REJECTED, R.ERROR], ids=lambda s: s.value)
def test_refill_status_rejected_and_error(me, service, ended):
    order = completed(me, service)
    refill = me("refill", order=str(order))["refill"]
    refill_transition(refill_id=int(refill), to=ended, actor="test")
    assert me("refill_status", refill=refill) == {"status": ended.value}


@pytest.mark.django_db
def test_refill_status_unknown_is_refill_not_found(me, service):
    refill = me("refill", order=str(completed(me, service)))["refill"]
    for token in ("", "abc", "0", "-1", "1.5", "999999999", f"{refill}.5"):
        assert me("refill_status", refill=token) == err("Refill not found"), token


@pytest.mark.django_db
def test_refill_status_without_refill_is_refill_not_found(me):
    assert me("refill_status") == err("Refill not found")


@pytest.mark.django_db
def test_refill_status_of_another_customers_refill_is_not_found(me, other, service):
    refill = other("refill", order=str(completed(other, service)))["refill"]
    assert me("refill_status", refill=refill) == err("Refill not found")
    assert me("refill_status", refills=refill) == [
        {"refill": int(refill), "status": {"error": "Refill not found"}}
    ]


@pytest.mark.django_db
def test_refill_status_accepts_whole_floats(me, service):
    refill = int(me("refill", order=str(completed(me, service)))["refill"])
    assert me("refill_status", refill=f"{refill}.0") == {"status": "Pending"}
    assert me("refill_status", refill=sci(refill)) == {"status": "Pending"}


@pytest.mark.django_db
def test_refill_status_multi_is_a_list_with_inline_errors(me, service):
    r1 = int(me("refill", order=str(completed(me, service, 1)))["refill"])
    r2 = int(me("refill", order=str(completed(me, service, 2)))["refill"])
    refill_transition(refill_id=r1, to=R.COMPLETED, actor="test")
    reply = me("refill_status", refills=f"{r1}, 999999999,{r2}.0,x")
    assert reply == [
        {"refill": r1, "status": "Completed"},
        {"refill": 999999999, "status": {"error": "Refill not found"}},
        {"refill": r2, "status": "Pending"},
        {"refill": "x", "status": {"error": "Refill not found"}},
    ]


@pytest.mark.django_db
def test_refill_status_multi_one_id_is_still_a_list(me, service):
    r1 = int(me("refill", order=str(completed(me, service)))["refill"])
    assert me("refill_status", refills=str(r1)) == [{"refill": r1, "status": "Pending"}]


@pytest.mark.django_db
def test_refill_status_multi_101_ids_is_an_error(me):
    reply = me("refill_status", refills=",".join(str(n) for n in range(1, 102)))
    assert set(reply) == {"error"}
    assert len(me("refill_status", refills=",".join(str(n) for n in range(1, 101)))) == 100
