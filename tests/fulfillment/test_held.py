"""Settling held orders (sends that may or may not have reached the provider): a provider's
order id belongs to one order only, and a customer's cancel is honoured however it is settled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from smmpanel.catalog.models import Service, ServiceType
from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.fulfillment.worker import Worker
from smmpanel.orders.held import held_attach, held_refund, held_resend
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_cancel_request, order_place
from smmpanel.orders.subscriptions import subscription_pause, subscription_stop
from smmpanel.providers.models import Provider
from smmpanel.providers.services import provider_create
from tests.factories import make_customer, make_service
from tests.fulfillment.conftest import fast_config

pytestmark = pytest.mark.django_db


def provider_service(name: str = "Upstream", type: str = ServiceType.DEFAULT) -> Service:
    """A service bought from a provider nobody calls here: the worker only recovers sends."""
    provider = provider_create(name=name, api_url="http://127.0.0.1:9/api/v2", api_key="k")
    service = make_service(type=type, rate="1.00", cancel=True)
    Service.objects.filter(pk=service.pk).update(provider=provider, provider_service_id=1)
    service.refresh_from_db()
    return service


def held_orders(service: Service, n: int, customer=None) -> list[Order]:
    """What a worker killed while sending leaves: orders that may exist upstream, held."""
    customer = customer or make_customer("100")[0]
    subscription = OrderRequest(username="star", min=100, max=200, delay=0)
    orders = [
        order_place(
            customer=customer,
            service_id=service.pk,
            params=subscription
            if service.type == ServiceType.SUBSCRIPTIONS
            else OrderRequest(link=f"https://e.x/held/{service.pk}/{i}", quantity=100),
        )
        for i in range(n)
    ]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        forward_state=ForwardState.SENDING,
        lease_owner="killed",
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    survivor = Worker(name="survivor", config=fast_config())
    survivor.recover_abandoned_sends()
    survivor.close()
    held = list(Order.objects.filter(pk__in=[o.pk for o in orders]).order_by("id"))
    assert {o.forward_state for o in held} == {ForwardState.HELD}
    return held


def test_attaching_a_provider_order_id_another_order_has_is_refused():
    first, second = held_orders(provider_service(), 2)
    held_attach(order_id=first.pk, provider_order_id=1055, actor="op")
    with pytest.raises(ConflictError) as refused:
        held_attach(order_id=second.pk, provider_order_id=1055, actor="op")
    assert refused.value.message == f"Provider order 1055 already belongs to order #{first.pk}"
    second.refresh_from_db()
    assert (second.forward_state, second.provider_order_id) == (ForwardState.HELD, None)
    assert not OrderEvent.objects.filter(order=second, kind="attached").exists()


def test_another_provider_may_use_the_same_order_id():
    [mine] = held_orders(provider_service("One"), 1)
    [theirs] = held_orders(provider_service("Two"), 1)
    held_attach(order_id=mine.pk, provider_order_id=1055, actor="op")
    held_attach(order_id=theirs.pk, provider_order_id=1055, actor="op")
    assert Order.objects.filter(provider_order_id=1055).count() == 2


def test_the_database_keeps_one_order_per_provider_order_id():
    service = provider_service()
    first, second = held_orders(service, 2)
    Order.objects.filter(pk=first.pk).update(provider_order_id=77)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=second.pk).update(provider_order_id=77)
    # Orders no provider has (by hand) carry no provider order id to clash on.
    assert Provider.objects.count() == 1


def test_a_resend_of_an_order_the_customer_asked_to_cancel_cancels_it_instead():
    customer, _ = make_customer("10")
    [order] = held_orders(provider_service(), 1, customer)
    order_cancel_request(customer=customer, order_id=order.pk)
    held_resend(order_id=order.pk, actor="op")
    order.refresh_from_db()
    assert (order.status, order.forward_state) == ("Canceled", ForwardState.UNSENT)
    assert order.next_check_at is None
    customer.refresh_from_db()
    assert customer.balance == 10
    with pytest.raises(PanelError):
        held_refund(order_id=order.pk, actor="op")


def test_an_attach_of_an_order_the_customer_asked_to_cancel_sends_the_cancel():
    customer, _ = make_customer("10")
    [order] = held_orders(provider_service(), 1, customer)
    order_cancel_request(customer=customer, order_id=order.pk)
    held_attach(order_id=order.pk, provider_order_id=4242, actor="op")
    order.refresh_from_db()
    # Followed under that id, with the provider's cancel due at once (the cancel pass).
    assert (order.forward_state, order.status) == (ForwardState.SENT, "Pending")
    assert order.cancel_requested_at is not None and order.cancel_sent_at is None
    assert order.next_check_at is not None and order.next_check_at <= timezone.now()
    event = OrderEvent.objects.get(order=order, kind="attached")
    assert event.data == {"provider_order": 4242, "cancel_requested": True}


def test_a_subscription_paused_while_held_is_canceled_at_its_provider_once_attached():
    [sub] = held_orders(provider_service(type=ServiceType.SUBSCRIPTIONS), 1)
    subscription_pause(order_id=sub.pk, actor="op")
    held_attach(order_id=sub.pk, provider_order_id=31, actor="op")
    sub.refresh_from_db()
    # API v2 has no pause: like any paused subscription there, it is canceled upstream
    # (the worker's cancel pass), and placed anew on resume.
    assert (sub.status, sub.forward_state) == ("Paused", ForwardState.SENT)
    assert sub.cancel_requested_at is not None and sub.cancel_sent_at is None
    assert sub.next_check_at is not None and sub.next_check_at <= timezone.now()


def test_a_subscription_stopped_while_held_is_not_sent_again():
    [sub] = held_orders(provider_service(type=ServiceType.SUBSCRIPTIONS), 1)
    subscription_stop(order_id=sub.pk, actor="op", reason="stopped")
    held_resend(order_id=sub.pk, actor="op")
    sub.refresh_from_db()
    assert (sub.status, sub.forward_state, sub.next_check_at) == (
        "Canceled", ForwardState.UNSENT, None,
    )  # fmt: skip
    assert OrderEvent.objects.filter(order=sub, kind="not_resent").exists()


def test_a_post_whose_provider_order_another_order_follows_is_not_charged():
    from smmpanel.orders.subscriptions import subscription_post_seen

    customer, _ = make_customer("10")
    subscriptions = provider_service(type=ServiceType.SUBSCRIPTIONS)
    [sub] = held_orders(subscriptions, 1, customer)
    held_attach(order_id=sub.pk, provider_order_id=31, actor="op")
    plain = make_service(rate="1.00")
    Service.objects.filter(pk=plain.pk).update(
        provider=subscriptions.provider, provider_service_id=2
    )
    [order] = held_orders(Service.objects.get(pk=plain.pk), 1, customer)
    held_attach(order_id=order.pk, provider_order_id=77, actor="op")
    # The provider reports 77 among the subscription's posts: it is not a post of ours.
    assert (
        subscription_post_seen(order_id=sub.pk, provider_order_id=77, quantity=150, actor="w")
        is None
    )
    assert not Order.objects.filter(parent=sub).exists()
    customer.refresh_from_db()
    assert customer.balance == Decimal("10") - order.charge
