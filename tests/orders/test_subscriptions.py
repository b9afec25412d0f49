"""Subscriptions pay per post: each post is a child order charged at the subscription's rate;
when the balance cannot pay for a post the subscription pauses instead."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.billing.services import customer_deposit
from smmpanel.catalog.models import Service
from smmpanel.core import errors
from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.orders.models import Order, OrderEvent
from smmpanel.orders.services import order_transition
from smmpanel.orders.states import OrderStatus
from smmpanel.orders.subscriptions import (
    subscription_deliver_post,
    subscription_pause,
    subscription_resume,
    subscription_stop,
)
from tests.factories import make_customer, make_service
from tests.orders.helpers import T, balance_of, entries, params_for, place

pytestmark = pytest.mark.django_db
S = OrderStatus
POST = "https://instagram.com/p/post{}"


def _subscription(balance: str = "10", rate: str = "0.12345", **params: str):
    customer, _ = make_customer(balance)
    service = make_service(type=T.SUBSCRIPTIONS, rate=rate)
    order = place(customer, service, **{**params_for(T.SUBSCRIPTIONS), **params})
    return customer, service, order


def _deliver(order: Order, n: int, quantity: int) -> Order:
    return subscription_deliver_post(
        order_id=order.pk, link=POST.format(n), quantity=quantity, actor="watcher"
    )


def test_each_post_is_a_child_order_charged_at_the_subscription_rate():
    customer, service, sub = _subscription(posts="3")
    Service.objects.filter(pk=service.pk).update(rate=Decimal("9.99"))  # later price change

    first = _deliver(sub, 1, 100)
    second = _deliver(sub, 2, 150)

    assert first.parent_id == second.parent_id == sub.pk
    assert first.type == T.DEFAULT
    assert (first.rate, first.charged_quantity, first.remains) == (Decimal("0.12345"), 100, 100)
    assert first.charge == Decimal("0.01235")  # 0.012345 half-up
    assert second.charge == Decimal("0.01852")  # 0.0185175
    assert first.link == POST.format(1)
    assert first.status == S.PENDING
    for child in (first, second):
        [entry] = entries(child, EntryKind.CHARGE)
        assert entry.amount == -child.charge
    assert balance_of(customer) == Decimal("10") - Decimal("0.03087")
    parent = Order.objects.get(pk=sub.pk)
    assert parent.status == S.ACTIVE
    assert parent.posts_delivered == 2
    assert parent.charge == Decimal("0.03087")
    assert not LedgerEntry.objects.filter(order_id=sub.pk).exists()  # children hold the money


def test_the_last_post_completes_the_subscription():
    customer, _, sub = _subscription(posts="2")
    _deliver(sub, 1, 100)
    _deliver(sub, 2, 200)
    parent = Order.objects.get(pk=sub.pk)
    assert parent.status == S.COMPLETED
    assert parent.finished_at is not None
    assert parent.posts_delivered == 2
    balance = balance_of(customer)
    with pytest.raises(ConflictError):
        _deliver(sub, 3, 100)
    assert balance_of(customer) == balance
    assert Order.objects.filter(parent_id=sub.pk).count() == 2


def test_a_post_the_balance_cannot_pay_pauses_the_subscription():
    # 0.02469 pays for the largest first post (200 units), not for two posts of 150.
    customer, _, sub = _subscription(balance="0.02469")
    _deliver(sub, 1, 150)  # 0.01852
    left = balance_of(customer)
    assert left == Decimal("0.00617")

    result = _deliver(sub, 2, 150)

    assert result.pk == sub.pk
    assert result.status == S.PAUSED
    parent = Order.objects.get(pk=sub.pk)
    assert parent.status == S.PAUSED
    assert parent.posts_delivered == 1
    assert parent.charge == Decimal("0.01852")
    assert balance_of(customer) == left
    assert Order.objects.filter(parent_id=sub.pk).count() == 1
    event = OrderEvent.objects.filter(order_id=sub.pk).last()
    assert (event.from_status, event.to_status) == (S.ACTIVE, S.PAUSED)
    # Paused: no further post is charged.
    with pytest.raises(ConflictError):
        _deliver(sub, 3, 100)
    assert balance_of(customer) == left


def test_a_post_of_exactly_the_balance_is_delivered():
    customer, _, sub = _subscription(balance="0.02469")
    child = _deliver(sub, 1, 200)
    assert child.charge == Decimal("0.02469")
    assert balance_of(customer) == Decimal("0")
    assert Order.objects.get(pk=sub.pk).status == S.ACTIVE


@pytest.mark.parametrize("quantity", [99, 201, 0])
def test_a_post_quantity_outside_min_max_is_refused(quantity):
    customer, _, sub = _subscription()
    with pytest.raises(PanelError):
        _deliver(sub, 1, quantity)
    assert balance_of(customer) == Decimal("10")
    assert not Order.objects.filter(parent_id=sub.pk).exists()


def test_only_subscriptions_get_posts():
    customer, _ = make_customer("10")
    order = place(customer, make_service(), link="https://x.test/1", quantity="100")
    with pytest.raises(PanelError) as caught:
        _deliver(order, 1, 100)
    assert caught.value.message == errors.INCORRECT_ORDER


def test_canceling_a_subscription_refunds_nothing_but_its_children_refund_themselves():
    customer, _, sub = _subscription()
    child = _deliver(sub, 1, 100)
    order_transition(order_id=sub.pk, to=S.CANCELED, actor="test")
    assert not entries(sub, EntryKind.REFUND)
    assert balance_of(customer) == Decimal("10") - Decimal("0.01235")
    order_transition(order_id=child.pk, to=S.PARTIAL, actor="test", remains=40)
    [refund] = entries(child, EntryKind.REFUND)
    assert refund.amount == Decimal("0.00494")  # 0.12345 x 40 / 1000 = 0.004938


def test_no_post_is_charged_after_the_expiry_date():
    today = dt.datetime.now(dt.UTC).date()
    expiry = today + dt.timedelta(days=1)
    customer, _, sub = _subscription(expiry=expiry.strftime("%d/%m/%Y"))
    later = dt.datetime.combine(expiry + dt.timedelta(days=2), dt.time(12), tzinfo=dt.UTC)
    # Refusing the post is right; charging for it is not.
    with time_machine.travel(later), contextlib.suppress(PanelError):
        _deliver(sub, 1, 100)
    assert balance_of(customer) == Decimal("10")
    assert not Order.objects.filter(parent_id=sub.pk).exists()


# -- pause, resume, stop, expiry and funds, for a subscription fulfilled by hand ----------------


@pytest.fixture
def worker():
    from smmpanel.fulfillment.worker import Worker
    from tests.fulfillment.conftest import fast_config

    w = Worker(name="subs-test", config=fast_config())
    yield w
    w.close()


def _status(order: Order) -> str:
    return Order.objects.get(pk=order.pk).status


def test_old_posts_count_on_top_of_posts():
    _, _, sub = _subscription(posts="2", old_posts="1")
    for n in (1, 2):
        _deliver(sub, n, 100)
    assert _status(sub) == S.ACTIVE
    _deliver(sub, 3, 100)
    assert _status(sub) == S.COMPLETED


def test_the_operator_pauses_and_resumes_no_post_is_charged_while_paused():
    customer, _, sub = _subscription()
    subscription_pause(order_id=sub.pk, actor="operator")
    assert Order.objects.get(pk=sub.pk).paused_for == "operator"
    with pytest.raises(ConflictError):
        _deliver(sub, 1, 100)
    assert balance_of(customer) == Decimal("10")
    with pytest.raises(ConflictError):
        subscription_pause(order_id=sub.pk, actor="operator")
    subscription_resume(order_id=sub.pk, actor="operator")
    _deliver(sub, 1, 100)
    assert Order.objects.get(pk=sub.pk).posts_delivered == 1


def test_stop_ends_it_at_once_and_refunds_nothing():
    customer, _, sub = _subscription()
    child = _deliver(sub, 1, 100)
    subscription_stop(order_id=sub.pk, actor="operator", reason="stopped")
    assert _status(sub) == S.CANCELED
    assert balance_of(customer) == Decimal("10") - child.charge
    with pytest.raises(PanelError, match="already finished"):
        subscription_stop(order_id=sub.pk, actor="operator", reason="again")
    with pytest.raises(ConflictError):
        subscription_resume(order_id=sub.pk, actor="operator")


def test_paused_for_funds_resumes_by_itself_once_the_balance_pays_a_post(worker):
    customer, _, sub = _subscription(balance="0.02469")  # one post of 200 at 0.12345
    _deliver(sub, 1, 200)
    assert _deliver(sub, 2, 100).status == S.PAUSED
    assert Order.objects.get(pk=sub.pk).paused_for == "funds"
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6), tick=False):
        worker.subscription_chores_pass()
        assert _status(sub) == S.PAUSED, "still no funds"
    customer_deposit(customer_id=customer.pk, amount=Decimal("0.03"))
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=12), tick=False):
        worker.subscription_chores_pass()
    sub.refresh_from_db()
    assert (sub.status, sub.paused_for) == (S.ACTIVE, "")
    _deliver(sub, 2, 100)


def test_an_operator_pause_is_not_lifted_by_funds(worker):
    _customer, _, sub = _subscription(balance="50")
    subscription_pause(order_id=sub.pk, actor="operator")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=3), tick=False):
        worker.subscription_chores_pass()
    assert _status(sub) == S.PAUSED


def test_the_worker_expires_a_subscription_after_its_expiry_day(worker):
    today = dt.datetime.now(dt.UTC).date()
    expiry = today + dt.timedelta(days=1)
    _customer, _, sub = _subscription(expiry=expiry.strftime("%d/%m/%Y"))
    last_moment = dt.datetime.combine(expiry, dt.time(23, 59), tzinfo=dt.UTC)
    with time_machine.travel(last_moment, tick=False):
        worker.subscription_chores_pass()
        assert _status(sub) == S.ACTIVE
        _deliver(sub, 1, 100)  # the expiry day itself still counts
    with time_machine.travel(last_moment + dt.timedelta(minutes=2), tick=False):
        worker.subscription_chores_pass()
    assert _status(sub) == S.EXPIRED
    with pytest.raises(ConflictError):
        _deliver(sub, 2, 100)


def test_a_paused_subscription_expires_too(worker):
    expiry = dt.datetime.now(dt.UTC).date()
    _customer, _, sub = _subscription(expiry=expiry.strftime("%d/%m/%Y"))
    subscription_pause(order_id=sub.pk, actor="operator")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1), tick=False):
        worker.subscription_chores_pass()
    assert _status(sub) == S.EXPIRED
