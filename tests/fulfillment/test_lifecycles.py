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
from smmpanel.orders.held import held_refund
from smmpanel.orders.models import ForwardState, Order, Refill
from smmpanel.orders.request import OrderRequest
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
        params=OrderRequest(link=new_link(), quantity=quantity, runs=runs, interval=1),
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


# -- subscriptions at a provider --------------------------------------------------------------


def subscription_service(provider: Provider) -> Service:
    return Service.objects.get(provider=provider, provider_service_id=16)


def place_subscription(customer, service: Service, **params: str) -> Order:
    return order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest.from_text({"username": f"acct{new_link()[-12:]}", "min": "100",
                                       "max": "300", "delay": "0", **params}),
    )  # fmt: skip


def posts(order: Order) -> list[Order]:
    return list(Order.objects.filter(parent_id=order.pk).order_by("id"))


def charges(order: Order) -> Decimal:
    return sum(
        (e.amount for e in LedgerEntry.objects.filter(order__parent=order, kind="charge")),
        Decimal(0),
    )


def test_a_subscription_is_forwarded_and_each_post_charged_as_it_appears(sim, provider, worker):
    sim.configure(post_interval=0.05)
    customer, _ = make_customer("100")
    service = subscription_service(provider)
    sub = place_subscription(customer, service, posts="3", old_posts="1")
    assert (sub.status, sub.forward_state, sub.charge) == ("Active", "queued", Decimal(0))
    drive(worker, lambda: Order.objects.get(pk=sub.pk).status == "Completed")
    drive(worker, all_final(*posts(sub)))
    sub.refresh_from_db()
    upstream = sim.order(sub.provider_order_id)
    assert upstream["params"]["posts"] == "3" and upstream["params"]["old_posts"] == "1"
    assert sub.posts_delivered == 4 == len(posts(sub))
    for child in posts(sub):
        at_provider = sim.order(child.provider_order_id)
        assert at_provider["parent"] == sub.provider_order_id
        # What the provider delivers is what the customer pays for, at our rate.
        assert child.charged_quantity == at_provider["quantity"]
        assert child.charge == price(sub.rate, child.charged_quantity)
        assert child.status == "Completed"
    assert -charges(sub) == sub.charge == sum((c.charge for c in posts(sub)), Decimal(0))
    customer.refresh_from_db()
    assert customer.balance == Decimal("100") - sub.charge


def test_a_subscription_the_balance_cannot_pay_pauses_then_resumes_when_funded(
    sim, provider, worker
):
    # Slow enough that the unpaid post, and the cancel it calls for, beat the subscription's
    # last post even on a busy machine (a second apart, not half: the suite runs in parallel).
    sim.configure(post_interval=1.0)
    service = subscription_service(provider)
    # The largest post costs 0.648 here (300 at 2.16): this pays for at least one post,
    # never for five.
    customer, _ = make_customer("1.30")
    sub = place_subscription(customer, service, posts="5")
    drive(worker, lambda: Order.objects.get(pk=sub.pk).status == "Paused")
    drive(worker, lambda: Order.objects.get(pk=sub.pk).cancel_sent_at is not None)
    sub.refresh_from_db()
    assert sub.paused_for == "funds"
    first_upstream = sub.provider_order_id
    assert sim.order(first_upstream)["status"] == "Canceled", "no more posts at our cost"
    paid = len(posts(sub))
    assert 1 <= paid < 5 and sub.posts_delivered == paid
    customer.refresh_from_db()
    assert customer.balance >= 0

    from smmpanel.billing.services import customer_deposit

    customer_deposit(customer_id=customer.pk, amount=Decimal("10"), memo="top-up")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6), tick=True):
        drive(worker, lambda: Order.objects.get(pk=sub.pk).status == "Completed")
    sub.refresh_from_db()
    assert sub.provider_order_id != first_upstream, "placed anew at the provider"
    again = sim.order(sub.provider_order_id)["params"]
    assert again["posts"] == str(5 - paid)
    assert sub.posts_delivered == 5 == len(posts(sub))


def test_the_operator_pauses_resumes_and_stops_a_forwarded_subscription(sim, provider, worker):
    from smmpanel.orders.subscriptions import (
        subscription_pause,
        subscription_resume,
        subscription_stop,
    )

    sim.configure(post_interval=0.1)
    customer, _ = make_customer("100")
    sub = place_subscription(customer, subscription_service(provider))
    drive(worker, lambda: len(posts(sub)) >= 1)
    subscription_pause(order_id=sub.pk, actor="operator")
    drive(worker, lambda: Order.objects.get(pk=sub.pk).cancel_sent_at is not None)
    sub.refresh_from_db()
    assert (sub.status, sub.paused_for) == ("Paused", "operator")
    assert sim.order(sub.provider_order_id)["status"] == "Canceled"
    seen = len(posts(sub))
    worker.run_once()
    assert len(posts(sub)) == seen

    subscription_resume(order_id=sub.pk, actor="operator")
    drive(worker, lambda: len(posts(sub)) > seen)
    sub.refresh_from_db()
    assert sub.status == "Active" and sim.order(sub.provider_order_id)["status"] == "Active"

    subscription_stop(order_id=sub.pk, actor="operator", reason="stopped by the operator")
    drive(worker, lambda: Order.objects.get(pk=sub.pk).cancel_sent_at is not None)
    sub.refresh_from_db()
    assert sub.status == "Canceled"
    assert sim.order(sub.provider_order_id)["status"] == "Canceled"
    assert not LedgerEntry.objects.filter(order=sub).exists(), "the subscription itself: no money"


def test_a_customer_cancel_stops_a_forwarded_subscription_at_once(sim, provider, worker):
    sim.configure(post_interval=0.1)
    customer, _ = make_customer("100")
    sub = place_subscription(customer, subscription_service(provider))
    drive(worker, lambda: Order.objects.get(pk=sub.pk).forward_state == "sent")
    order_cancel_request(customer=customer, order_id=sub.pk)
    assert Order.objects.get(pk=sub.pk).status == "Canceled"
    charged = charges(sub)
    drive(worker, lambda: Order.objects.get(pk=sub.pk).cancel_sent_at is not None)
    assert sim.order(Order.objects.get(pk=sub.pk).provider_order_id)["status"] == "Canceled"
    worker.run_once()
    assert charges(sub) == charged


def test_a_forwarded_subscription_ends_on_its_expiry_day(sim, provider, worker):
    sim.configure(post_interval=3600)  # no new post: only the date matters here
    customer, _ = make_customer("100")
    tomorrow = (timezone.now() + dt.timedelta(days=1)).strftime("%d/%m/%Y")
    sub = place_subscription(customer, subscription_service(provider), expiry=tomorrow)
    drive(worker, lambda: Order.objects.get(pk=sub.pk).forward_state == "sent")
    assert sim.order(Order.objects.get(pk=sub.pk).provider_order_id)["params"]["expiry"] == (
        tomorrow
    )
    with time_machine.travel(timezone.now() + dt.timedelta(days=2), tick=True):
        drive(worker, lambda: Order.objects.get(pk=sub.pk).status == "Expired")
        drive(worker, lambda: Order.objects.get(pk=sub.pk).cancel_sent_at is not None)
    assert sim.order(Order.objects.get(pk=sub.pk).provider_order_id)["status"] == "Canceled"


def test_a_drip_feed_the_panel_ran_is_refilled_run_by_run_at_the_provider(
    sim, provider, worker, api
):
    sim.configure(refill_period=86400)
    service = Service.objects.get(provider=provider, provider_service_id=1)
    # The provider could take this drip-feed; the panel runs it anyway (as the operator may).
    Service.objects.filter(pk=service.pk).update(provider_dripfeed=False)
    service.provider_dripfeed = False
    customer, key = make_customer("100")
    order = place_drip(customer, service, runs=2)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        drive(worker, run_ended(order, 1))
        clock.shift(dt.timedelta(minutes=1))
        drive(worker, all_final(order))
        order.refresh_from_db()
        assert order.status == "Completed"

        reply = api(key, "refill", order=str(order.pk))
        refill = Refill.objects.get(pk=int(reply["refill"]))
        assert refill.forward_state == ForwardState.DRIPFEED
        parts = list(Refill.objects.filter(parent=refill).order_by("id"))
        assert [p.order_id for p in parts] == [r.pk for r in children(order)]
        drive(worker, lambda: Refill.objects.get(pk=refill.pk).status == "Completed", seconds=30)
    for part in Refill.objects.filter(parent=refill):
        assert part.status == "Completed"
        upstream = sim.stats()["refills"][str(part.provider_refill_id)]
        assert upstream["order"] == part.order.provider_order_id
    assert api(key, "refill_status", refill=str(refill.pk)) == {"status": "Completed"}
    assert api(key, "refill", order=str(order.pk)).keys() == {"refill"}, "a second one later"


def test_a_stop_while_the_worker_polls_the_subscription_still_cancels_it_upstream(
    sim, provider, worker
):
    from django.db.models import Q

    from smmpanel.orders.subscriptions import subscription_stop
    from smmpanel.providers.client import ProviderClient

    sim.configure(post_interval=3600)
    customer, _ = make_customer("100")
    sub = place_subscription(customer, subscription_service(provider))
    drive(worker, lambda: Order.objects.get(pk=sub.pk).forward_state == "sent")
    ids = worker._claim(Order, Q(pk=sub.pk), 1)  # the worker is polling it right now
    subscription_stop(order_id=sub.pk, actor="operator", reason="stopped")
    [claimed] = worker._mine(Order, ids)
    with ProviderClient(sim.url, sim.key) as client:
        reply = client.statuses([claimed.provider_order_id])[claimed.provider_order_id]
    worker.follow_subscription(claimed, reply)  # its reply is recorded after the stop
    drive(worker, lambda: Order.objects.get(pk=sub.pk).cancel_sent_at is not None)
    sub.refresh_from_db()
    assert sub.status == "Canceled"
    assert sim.order(sub.provider_order_id)["status"] == "Canceled"
