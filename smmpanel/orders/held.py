"""The operator's decisions on held orders: sends that may or may not have reached the
provider. Each one is a conditional update from HELD, so two operators can't both act."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.services import order_transition
from smmpanel.orders.states import OrderStatus


def _held(order_id: int) -> Order:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise PanelError(f"No order #{order_id}")
    if order.forward_state != ForwardState.HELD:
        raise ConflictError(f"Order #{order_id} is not held (it is {order.forward_state})")
    return order


def held_resend(*, order_id: int, actor: str) -> Order:
    """The operator checked the provider: it does not have the order. Send it again."""
    order = _held(order_id)
    with transaction.atomic():
        # Pending, or a subscription (Active from the start) that has not been paused.
        if not Order.objects.filter(
            pk=order_id,
            forward_state=ForwardState.HELD,
            status__in=[OrderStatus.PENDING, OrderStatus.ACTIVE],
        ).update(forward_state=ForwardState.QUEUED, next_check_at=timezone.now(), last_error=""):
            raise ConflictError(f"Order #{order_id} changed meanwhile")
        OrderEvent.objects.create(
            order_id=order_id, kind="resend", from_status=order.status, to_status=order.status,
            actor=actor,
        )  # fmt: skip
    order.refresh_from_db()
    return order


def held_attach(*, order_id: int, provider_order_id: int, actor: str) -> Order:
    """The operator found the order at the provider: follow it under this id."""
    order = _held(order_id)
    if provider_order_id <= 0:
        raise PanelError("The provider's order id must be a positive number")
    with transaction.atomic():
        if not Order.objects.filter(pk=order_id, forward_state=ForwardState.HELD).update(
            forward_state=ForwardState.SENT,
            provider_order_id=provider_order_id,
            next_check_at=timezone.now(),
            last_error="",
        ):
            raise ConflictError(f"Order #{order_id} changed meanwhile")
        OrderEvent.objects.create(
            order_id=order_id, kind="attached", from_status=order.status,
            to_status=order.status, actor=actor, data={"provider_order": provider_order_id},
        )  # fmt: skip
    order.refresh_from_db()
    return order


def held_refund(*, order_id: int, actor: str) -> Order:
    """Give up on a held order: cancel it with a full refund."""
    order = _held(order_id)
    return order_transition(
        order_id=order_id,
        to=OrderStatus.CANCELED,
        expected=OrderStatus(order.status),
        actor=actor,
        data={"reason": "held order refunded by the operator"},
        guard=Q(forward_state=ForwardState.HELD),
        extra={"forward_state": ForwardState.FAILED, "next_check_at": None},
    )
