"""Drip-feed, refills and subscriptions end to end, with the simulator as the provider over
loopback and the panel's clock faked where minutes must pass."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from smmpanel.billing.models import LedgerEntry
from smmpanel.catalog.models import Service
from smmpanel.core.money import price
from smmpanel.fulfillment.services import held_refund
from smmpanel.orders.models import ForwardState, Order, Refill
from smmpanel.orders.services import order_cancel_request, order_place, refill_request
from smmpanel.providers.models import Provider
from tests.factories import make_customer
from tests.fulfillment.conftest import all_final, drive, new_link, place

pytestmark = pytest.mark.django_db


def refunds(order: Order) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(order=order, kind="refund").values_list("amount", flat=True)
    )


def views_service(provider: Provider) -> Service:
    """The simulator's YouTube Views: it takes no drip-feed; we offer drip-feed on it."""
    service = Service.objects.get(provider=provider, provider_service_id=3)
    assert not service.provider_dripfeed
    Service.objects.filter(pk=service.pk).update(dripfeed=True, cancel=True)
    service.dripfeed = service.cancel = True
    return service


def children(order: Order) -> list[Order]:
    return list(Order.objects.filter(parent_id=order.pk).order_by("id"))


def place_drip(customer, service: Service, *, runs: int, quantity: int = 200) -> Order:
    return order_place(
        customer=customer,
        service_id=service.pk,
        params={
            "link": new_link(),
            "quantity": str(quantity),
            "runs": str(runs),
            "interval": "1",
        },
    )


def run_ended(order: Order, n: int):
    def check() -> bool:
        runs = children(order)
        return len(runs) == n and runs[-1].status in ("Completed", "Partial", "Canceled")

    return check


def test_a_drip_feed_the_provider_cannot_take_goes_upstream_run_by_run(sim, provider, worker):
    customer, _ = make_customer("100")
    order = place_drip(customer, views_service(provider), runs=3)
    assert order.forward_state == ForwardState.DRIPFEED
    with time_machine.travel(timezone.now(), tick=True) as clock:
        for n in (1, 2, 3):
            drive(worker, run_ended(order, n))
            clock.shift(dt.timedelta(minutes=1))
        drive(worker, all_final(order))
    order.refresh_from_db()
    assert (order.status, order.completed_runs, order.remains) == ("Completed", 3, 0)
    runs = children(order)
    assert [r.status for r in runs] == ["Completed"] * 3
    for run in runs:
        upstream = sim.order(run.provider_order_id)
        assert upstream["link"] == order.link and upstream["quantity"] == 200
        assert "runs" not in upstream["params"], "each run is an ordinary order upstream"
    assert sim.created_count(order.link) == 3
    assert refunds(order) == []


def test_a_run_failing_upstream_ends_the_drip_feed_partial(sim, provider, worker):
    customer, _ = make_customer("100")
    order = place_drip(customer, views_service(provider), runs=4)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        drive(worker, run_ended(order, 1))
        sim.set_faults(error5xx=1.0, actions=("add",))  # the provider breaks mid-way
        clock.shift(dt.timedelta(minutes=1))
        drive(worker, lambda: [r.forward_state for r in children(order)][-1] == "held")
        second = children(order)[1]
        held_refund(order_id=second.pk, actor="operator")  # the operator gives up on it
        drive(worker, all_final(order))
        clock.shift(dt.timedelta(minutes=5))
        worker.run_once()
    order.refresh_from_db()
    assert (order.status, order.remains, order.completed_runs) == ("Partial", 600, 1)
    assert refunds(order) == [price(order.rate, 600)]
    assert len(children(order)) == 2, "no run after the failed one"
    customer.refresh_from_db()
    assert customer.balance == Decimal("100") - order.charge + price(order.rate, 600)


def test_cancel_of_a_drip_feed_upstream_stops_its_runs(sim, provider, worker):
    customer, _ = make_customer("100")
    order = place_drip(customer, views_service(provider), runs=5)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        drive(worker, run_ended(order, 1))
        order_cancel_request(customer=customer, order_id=order.pk)
        drive(worker, all_final(order))
        clock.shift(dt.timedelta(minutes=10))
        worker.run_once()
    order.refresh_from_db()
    assert (order.status, order.remains) == ("Partial", 800)
    assert refunds(order) == [price(order.rate, 800)]
    assert sim.created_count(order.link) == 1


def test_a_partial_upstream_order_can_be_refilled_upstream(sim, provider, worker):
    sim.configure(partial_rate=1.0, refill_period=86400)
    customer, _ = make_customer("100")
    service = Service.objects.get(provider=provider, provider_service_id=1)
    order = place(customer, service, quantity="1000")
    drive(worker, all_final(order))
    order.refresh_from_db()
    assert order.status == "Partial"
    refill = refill_request(customer=customer, order_id=order.pk)
    drive(worker, lambda: Refill.objects.get(pk=refill.pk).status == "Completed", seconds=30)
    refill.refresh_from_db()
    assert refill.provider_refill_id is not None
    assert sim.stats()["refills"][str(refill.provider_refill_id)]["order"] == (
        order.provider_order_id
    )


def test_refill_statuses_are_polled_100_at_a_time(sim, provider, worker):
    sim.configure(refill_period=86400)
    customer, _ = make_customer("1000")
    service = Service.objects.get(provider=provider, provider_service_id=1)
    orders = [place(customer, service, quantity="10") for _ in range(120)]
    drive(worker, all_final(*orders), seconds=60)
    for order in orders:
        refill_request(customer=customer, order_id=order.pk)
    sim.reset_stats()
    drive(worker, lambda: not Refill.objects.exclude(status="Completed").exists(), seconds=60)
    requests = sim.stats()["requests"]
    # 120 refills go out in a few batched calls, not one call each, and so are followed.
    assert 2 <= requests["refill"] <= 3
    assert 2 <= requests["refill_status"] <= 12
