"""Races in the lifecycles customers fight about, on PostgreSQL's row locks: a drip-feed's
cancel against its next run and against its last run's end; a subscription's post seen
twice at once, posts against a stop, and posts against the last of the balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.billing.services import ledger_verify
from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import ConflictError
from smmpanel.core.money import price
from smmpanel.fulfillment.worker import Worker
from smmpanel.orders.models import Order, OrderEvent
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_cancel_request, order_place, order_transition
from smmpanel.orders.states import OrderStatus
from smmpanel.orders.subscriptions import subscription_post_seen, subscription_stop
from tests.concurrency.race import race
from tests.conftest import postgres_only
from tests.factories import make_customer, make_service
from tests.fulfillment.conftest import fast_config

S = OrderStatus
ROUNDS = 4

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def _drips(n: int, runs: int = 3):
    customer, _ = make_customer("100")
    service = make_service(rate="0.90", cancel=True, dripfeed=True)
    return customer, [
        order_place(
            customer=customer,
            service_id=service.pk,
            params=OrderRequest(link=f"https://e.x/d{i}", quantity=100, runs=runs, interval=10),
        )
        for i in range(n)
    ]


def _workers(n: int) -> list[Worker]:
    return [Worker(name=f"racer-{i}", config=fast_config()) for i in range(n)]


def _finish(order: Order, clock: time_machine.Coordinates) -> Order:
    """Complete every run still out, and let the parent end."""
    (worker,) = _workers(1)
    for _ in range(10):
        for run in Order.objects.filter(parent=order, status=S.PENDING):
            order_transition(order_id=run.pk, to=S.COMPLETED, actor="operator")
        clock.shift(dt.timedelta(minutes=10))
        worker.dripfeed_pass()
        order.refresh_from_db()
        if order.status not in (S.PENDING, S.IN_PROGRESS):
            break
    worker.close()
    return order


def _refunds(order: Order) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(order=order, kind=EntryKind.REFUND).values_list(
            "amount", flat=True
        )
    )


def test_a_drip_feed_cancel_racing_its_next_run_never_lets_a_run_out_after_it():
    customer, drips = _drips(ROUNDS)
    a, b = _workers(2)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        a.dripfeed_pass()  # the first run of each
        for order in drips:
            [first] = Order.objects.filter(parent=order)
            order_transition(order_id=first.pk, to=S.COMPLETED, actor="operator")
        clock.shift(dt.timedelta(minutes=10))  # the second runs are due
        for order in drips:
            race([
                a.dripfeed_pass,
                lambda pk=order.pk: order_cancel_request(customer=customer, order_id=pk),
                b.dripfeed_pass,
            ])  # fmt: skip
        for order in drips:
            order = _finish(order, clock)
            cancel = OrderEvent.objects.get(order=order, kind="cancel_requested")
            late = OrderEvent.objects.filter(order=order, kind="run_sent", id__gt=cancel.id)
            assert not late.exists(), "a run went out after the cancel was recorded"
            runs = list(Order.objects.filter(parent=order))
            assert 1 <= len(runs) <= 2
            assert order.status == S.PARTIAL and order.remains == 300 - 100 * len(runs)
            assert _refunds(order) == [price(order.rate, order.remains)]
    a.close()
    b.close()
    assert ledger_verify() == []


def test_the_last_run_ending_while_the_parent_looks_ends_it_once():
    _, drips = _drips(ROUNDS, runs=2)
    a, b = _workers(2)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        a.dripfeed_pass()
        clock.shift(dt.timedelta(minutes=10))
        a.dripfeed_pass()  # both runs are out
        for order in drips:
            runs = list(Order.objects.filter(parent=order).order_by("id"))
            order_transition(order_id=runs[0].pk, to=S.COMPLETED, actor="operator")
            race([
                lambda pk=runs[1].pk: order_transition(
                    order_id=pk, to=S.PARTIAL, remains=40, actor="operator"
                ),
                a.dripfeed_pass,
                b.dripfeed_pass,
            ])  # fmt: skip
            order = _finish(order, clock)
            assert (order.status, order.remains, order.completed_runs) == (S.PARTIAL, 40, 2)
            assert _refunds(order) == [price(order.rate, 40)]
            assert (
                OrderEvent.objects.filter(order=order, kind="status", to_status=S.PARTIAL).count()
                == 1
            )
    a.close()
    b.close()


def _subscription(balance: str):
    customer, _ = make_customer(balance)
    service = make_service(type=ServiceType.SUBSCRIPTIONS, rate="1.00", min=10, max=1000)
    sub = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(username="racer", min=100, max=200, delay=0),
    )
    return customer, sub


def test_one_upstream_post_seen_by_several_at_once_is_charged_once():
    for _ in range(ROUNDS):
        customer, sub = _subscription("10")
        race([
            lambda pk=sub.pk: subscription_post_seen(
                order_id=pk, provider_order_id=777, quantity=150, actor="racer"
            )
            for _ in range(4)
        ])  # fmt: skip
        [post] = Order.objects.filter(parent=sub)
        assert LedgerEntry.objects.filter(order=post, kind=EntryKind.CHARGE).count() == 1
        customer.refresh_from_db()
        assert customer.balance == Decimal("10") - Decimal("0.15")
    assert ledger_verify() == []


def test_posts_racing_a_stop_are_charged_only_before_it():
    for _ in range(ROUNDS):
        customer, sub = _subscription("10")
        results = race(
            [
                lambda n=n, pk=sub.pk: subscription_post_seen(
                    order_id=pk, provider_order_id=n, quantity=100, actor="racer"
                )
                for n in range(1, 5)
            ]
            + [lambda pk=sub.pk: subscription_stop(order_id=pk, actor="racer", reason="stop")]
        )
        charged = [r for r in results[:4] if isinstance(r, Order)]
        assert all(isinstance(r, Order | ConflictError) for r in results), results
        assert Order.objects.get(pk=sub.pk).status == S.CANCELED
        assert Order.objects.filter(parent=sub).count() == len(charged)
        stop = OrderEvent.objects.get(order=sub, kind="status", to_status=S.CANCELED)
        assert not OrderEvent.objects.filter(order=sub, kind="post", id__gt=stop.id).exists()
        customer.refresh_from_db()
        assert customer.balance == Decimal("10") - Decimal("0.1") * len(charged)


def test_posts_racing_for_the_last_of_the_balance_never_overdraw_it():
    for _ in range(ROUNDS):
        customer, sub = _subscription("0.40")  # two posts of 200 at 1.00
        race([
            lambda n=n, pk=sub.pk: subscription_post_seen(
                order_id=pk, provider_order_id=n, quantity=200, actor="racer"
            )
            for n in range(1, 7)
        ])  # fmt: skip
        sub.refresh_from_db()
        assert Order.objects.filter(parent=sub).count() == 2
        assert (sub.status, sub.paused_for) == (S.PAUSED, "funds")
        customer.refresh_from_db()
        assert customer.balance == Decimal("0")
    assert ledger_verify() == []
