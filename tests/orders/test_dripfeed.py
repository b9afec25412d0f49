"""Drip-feed the panel runs itself (the service's fulfiller cannot take runs/interval): one
child order per run every `interval` minutes, the parent carrying the money. The clock is
faked; the runs of a manual service are fulfilled by hand, as the operator would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smmpanel.billing.models import EntryKind
from smmpanel.core.errors import ConflictError
from smmpanel.core.money import price
from smmpanel.fulfillment.worker import Worker
from smmpanel.orders.dripfeed import dripfeed_stop
from smmpanel.orders.models import ForwardState, Order, Refill
from smmpanel.orders.services import (
    order_cancel_request,
    order_progress,
    order_transition,
    refill_request,
    refill_transition,
)
from smmpanel.orders.states import OrderStatus, RefillStatus
from tests.factories import make_customer, make_service
from tests.fulfillment.conftest import fast_config
from tests.orders.helpers import LINK, balance_of, entries, place

pytestmark = pytest.mark.django_db
S = OrderStatus
R = RefillStatus
START = Decimal("100")


class Clock:
    """The faked clock: `clock.minutes(30)` moves everyone 30 minutes on."""

    def __init__(self, traveller: time_machine.Coordinates) -> None:
        self.traveller = traveller

    def minutes(self, n: float) -> None:
        self.traveller.shift(dt.timedelta(minutes=n))


@pytest.fixture
def clock() -> Iterator[Clock]:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield Clock(traveller)


@pytest.fixture
def worker() -> Iterator[Worker]:
    w = Worker(name="drip-test", config=fast_config())
    yield w
    w.close()


def drip(customer, *, runs: int = 4, quantity: int = 100, interval: int = 30, rate="0.90"):
    service = make_service(rate=rate, dripfeed=True)
    return place(
        customer,
        service,
        link=LINK,
        quantity=str(quantity),
        runs=str(runs),
        interval=str(interval),
    )


def runs(order: Order) -> list[Order]:
    return list(Order.objects.filter(parent_id=order.pk).order_by("id"))


def fresh(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def complete(child: Order) -> None:
    order_transition(order_id=child.pk, to=S.COMPLETED, actor="operator")


def deliver_every_run(order: Order, worker: Worker, clock: Clock) -> None:
    """Each run sent when due and completed by the operator; then the parent's last step."""
    for _ in range(order.runs or 0):
        worker.dripfeed_pass()
        complete(runs(order)[-1])
        clock.minutes(order.interval or 0)
    worker.dripfeed_pass()


def test_a_drip_feed_on_a_manual_service_is_run_by_the_panel(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer)
    assert (order.forward_state, order.status) == (ForwardState.DRIPFEED, S.PENDING)
    assert order.charge == Decimal("0.36000")  # 100 x 4 at 0.90 per 1000, paid up front

    worker.dripfeed_pass()
    [first] = runs(order)
    assert fresh(order).status == S.IN_PROGRESS
    assert (first.link, first.quantity, first.charged_quantity, first.charge) == (
        LINK,
        100,
        100,
        Decimal("0"),
    )
    assert first.forward_state == ForwardState.MANUAL  # the operator's, like any manual order

    clock.minutes(29)
    worker.dripfeed_pass()
    assert len(runs(order)) == 1, "no run before its interval"
    clock.minutes(1)
    worker.dripfeed_pass()
    assert len(runs(order)) == 2


def test_every_run_delivered_completes_the_parent_with_no_refund(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=3)
    deliver_every_run(order, worker, clock)
    order = fresh(order)
    assert (order.status, order.completed_runs, order.remains) == (S.COMPLETED, 3, 0)
    assert len(runs(order)) == 3
    assert entries(order, EntryKind.REFUND) == []
    assert balance_of(customer) == START - order.charge
    worker.dripfeed_pass()
    assert len(runs(order)) == 3, "an ended drip-feed sends nothing more"


def test_the_parent_ends_as_soon_as_its_last_run_ends(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=2, interval=600)
    worker.dripfeed_pass()
    clock.minutes(600)
    worker.dripfeed_pass()
    for child in runs(order):
        complete(child)
    worker.dripfeed_pass()  # woken by the last run's end, not 600 minutes later
    assert fresh(order).status == S.COMPLETED


def test_status_shows_runs_done_and_what_remains(clock, worker, api):
    customer, key = make_customer(str(START))
    order = drip(customer, runs=4)
    worker.dripfeed_pass()
    [first] = runs(order)
    order_progress(order_id=first.pk, actor="operator", start_count=50, remains=40)
    complete(first)
    clock.minutes(30)
    worker.dripfeed_pass()
    status = api(key, "status", order=str(order.pk))
    assert status == {
        "charge": "0.36000",
        "start_count": "50",  # the first run's
        "status": "In progress",
        "remains": "300",
        "currency": "USD",
        "runs": "4",
        "completed_runs": "1",
    }


def test_a_failed_run_stops_the_rest_and_refunds_everything_undelivered(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=4, quantity=333, rate="1.23457")
    worker.dripfeed_pass()
    complete(runs(order)[0])
    clock.minutes(30)
    worker.dripfeed_pass()
    order_transition(order_id=runs(order)[1].pk, to=S.CANCELED, actor="operator")
    worker.dripfeed_pass()
    order = fresh(order)
    assert (order.status, order.remains, order.completed_runs) == (S.PARTIAL, 999, 1)
    [refund] = entries(order, EntryKind.REFUND)
    assert refund.amount == price(order.rate, 999) == Decimal("1.23334")
    clock.minutes(120)
    worker.dripfeed_pass()
    assert len(runs(order)) == 2, "no run after the failed one"
    assert balance_of(customer) == START - order.charge + refund.amount


def test_a_partial_run_is_a_shortfall_the_parent_refunds_at_the_end(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=2)
    worker.dripfeed_pass()
    order_transition(order_id=runs(order)[0].pk, to=S.PARTIAL, actor="operator", remains=30)
    clock.minutes(30)
    worker.dripfeed_pass()
    complete(runs(order)[1])
    worker.dripfeed_pass()
    order = fresh(order)
    assert (order.status, order.remains, order.completed_runs) == (S.PARTIAL, 30, 2)
    assert [e.amount for e in entries(order, EntryKind.REFUND)] == [price(order.rate, 30)]


def test_cancel_before_the_first_run_refunds_in_full_at_once(worker):
    customer, _ = make_customer(str(START))
    order = drip(customer)
    order = order_cancel_request(customer=customer, order_id=order.pk)
    assert order.status == S.CANCELED
    assert [e.amount for e in entries(order, EntryKind.REFUND)] == [order.charge]
    worker.dripfeed_pass()
    assert runs(order) == []
    assert balance_of(customer) == START


def test_cancel_midway_stops_future_runs_and_refunds_the_runs_not_made(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=5)
    worker.dripfeed_pass()
    complete(runs(order)[0])
    clock.minutes(30)
    worker.dripfeed_pass()  # the second run is out
    order_cancel_request(customer=customer, order_id=order.pk)
    worker.dripfeed_pass()
    assert fresh(order).status == S.IN_PROGRESS, "it waits for the run that is out"
    clock.minutes(60)
    worker.dripfeed_pass()
    assert len(runs(order)) == 2, "no run after the cancel"
    complete(runs(order)[1])
    worker.dripfeed_pass()
    order = fresh(order)
    assert (order.status, order.remains, order.completed_runs) == (S.PARTIAL, 300, 2)
    assert [e.amount for e in entries(order, EntryKind.REFUND)] == [price(order.rate, 300)]


def test_cancel_with_nothing_delivered_refunds_in_full(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=3)
    worker.dripfeed_pass()
    order_cancel_request(customer=customer, order_id=order.pk)
    order_transition(order_id=runs(order)[0].pk, to=S.CANCELED, actor="operator")
    worker.dripfeed_pass()
    order = fresh(order)
    assert order.status == S.CANCELED
    assert [e.amount for e in entries(order, EntryKind.REFUND)] == [order.charge]
    assert balance_of(customer) == START


def test_the_operator_stops_a_drip_feed_rather_than_setting_its_status(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=3)
    worker.dripfeed_pass()
    with pytest.raises(ConflictError, match="drip-feed"):
        order_transition(order_id=order.pk, to=S.CANCELED, actor="operator")
    with pytest.raises(ConflictError, match="drip-feed"):
        order_progress(order_id=order.pk, actor="operator", remains=10)
    dripfeed_stop(order_id=order.pk, actor="operator")
    with pytest.raises(ConflictError):
        dripfeed_stop(order_id=order.pk, actor="operator")
    complete(runs(order)[0])
    worker.dripfeed_pass()
    order = fresh(order)
    assert (order.status, order.remains) == (S.PARTIAL, 200)
    assert [e.amount for e in entries(order, EntryKind.REFUND)] == [price(order.rate, 200)]


def test_a_run_is_never_sent_twice_when_two_workers_look(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=3)
    other = Worker(name="drip-other", config=fast_config())
    try:
        worker.dripfeed_pass()
        other.dripfeed_pass()
        clock.minutes(30)
        other.dripfeed_pass()
        worker.dripfeed_pass()
    finally:
        other.close()
    assert len(runs(order)) == 2


def test_a_worker_that_was_down_sends_one_run_not_a_burst(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=4)
    worker.dripfeed_pass()
    clock.minutes(24 * 60)
    worker.dripfeed_pass()
    worker.dripfeed_pass()
    assert len(runs(order)) == 2


#: What happens to one run: delivered in full, in part (how many missing), or not at all.
run_outcomes = st.one_of(
    st.just(("complete", 0)),
    st.tuples(st.just("partial"), st.integers(min_value=1, max_value=99)),
    st.just(("fail", 0)),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    outcomes=st.lists(run_outcomes, min_size=2, max_size=5),
    cancel_after=st.one_of(st.none(), st.integers(min_value=0, max_value=4)),
    rate=st.decimals(min_value="0.001", max_value="50", places=5),
)
def test_any_runs_and_any_cancel_refund_exactly_what_was_not_delivered(
    worker, outcomes, cancel_after, rate
):
    runs_total = len(outcomes)
    customer, _ = make_customer(str(START))
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        order = drip(customer, runs=runs_total, rate=str(rate))
        stopped = False
        for i, (outcome, missing) in enumerate(outcomes):
            worker.dripfeed_pass()
            sent = runs(order)
            if stopped:
                assert len(sent) == i, "no run after a cancel or a failed run"
                break
            child = sent[-1]
            if outcome == "complete":
                order_transition(order_id=child.pk, to=S.COMPLETED, actor="operator")
            elif outcome == "partial":
                order_transition(order_id=child.pk, to=S.PARTIAL, actor="operator", remains=missing)
            else:
                order_transition(order_id=child.pk, to=S.CANCELED, actor="operator")
                stopped = True
            if cancel_after == i and fresh(order).status not in (S.PARTIAL, S.CANCELED):
                order_cancel_request(customer=customer, order_id=order.pk)
                stopped = True
            traveller.shift(dt.timedelta(minutes=30))
        worker.dripfeed_pass()
        worker.dripfeed_pass()

    order = fresh(order)
    sent = runs(order)
    delivered = sum(r.charged_quantity - r.remains for r in sent)
    assert order.remains == order.charged_quantity - delivered
    refunds = [e.amount for e in entries(order, EntryKind.REFUND)]
    if delivered == order.charged_quantity:
        assert order.status == S.COMPLETED and refunds == []
    elif delivered == 0:
        assert order.status == S.CANCELED and refunds == [order.charge]
    else:
        assert order.status == S.PARTIAL
        expected = min(order.charge, price(order.rate, order.remains))
        assert refunds == ([expected] if expected else [])  # a refund of 0.00000 is no entry
    assert balance_of(customer) == START - order.charge + sum(refunds, Decimal(0))


def test_refill_of_a_drip_feed_run_by_hand_goes_to_the_operator(clock, worker):
    customer, _ = make_customer(str(START))
    service = make_service(rate="0.90", dripfeed=True, refill=True)
    order = place(customer, service, link=LINK, quantity="100", runs="2", interval="30")
    deliver_every_run(order, worker, clock)
    assert fresh(order).status == S.COMPLETED
    refill = refill_request(customer=customer, order_id=order.pk)
    assert refill.forward_state == ForwardState.MANUAL
    assert not Refill.objects.filter(parent=refill).exists()


def test_the_parts_of_a_drip_feed_refill_decide_its_status(clock, worker):
    customer, _ = make_customer(str(START))
    order = drip(customer, runs=3)
    deliver_every_run(order, worker, clock)
    # As if each run had gone to a provider.
    for n, run in enumerate(runs(order), 1):
        Order.objects.filter(pk=run.pk).update(provider_order_id=9000 + n)
    first = runs(order)[0]
    own = refill_request(customer=customer, order_id=first.pk)  # that run has one open
    refill = refill_request(customer=customer, order_id=order.pk)
    parts = list(Refill.objects.filter(parent=refill).order_by("id"))
    assert [p.order_id for p in parts] == [r.pk for r in runs(order)[1:]]
    assert own.parent_id is None

    refill_transition(refill_id=parts[0].pk, to=R.IN_PROGRESS, actor="worker")
    assert Refill.objects.get(pk=refill.pk).status == R.IN_PROGRESS
    refill_transition(refill_id=parts[0].pk, to=R.REJECTED, actor="worker")
    assert Refill.objects.get(pk=refill.pk).status == R.IN_PROGRESS  # one part still out
    refill_transition(refill_id=parts[1].pk, to=R.COMPLETED, actor="worker")
    assert Refill.objects.get(pk=refill.pk).status == R.COMPLETED
