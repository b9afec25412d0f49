"""The operator's decisions on held orders: sends that may or may not have reached the
provider. Each one is a conditional update from HELD, so two operators can't both act.

A customer may ask to cancel a held order meanwhile; the request is kept on the order and
honoured by the decision: the provider does not have it (resend) - canceled at once with a
full refund, never sent; it has it (attach) - the provider's cancel goes out at once.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.services import order_transition
from smmpanel.orders.states import FINAL_STATUSES, OrderStatus

S = OrderStatus


def _held(order_id: int) -> Order:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise PanelError(f"No order #{order_id}")
    if order.forward_state != ForwardState.HELD:
        raise ConflictError(f"Order #{order_id} is not held (it is {order.forward_state})")
    return order


def held_resend(*, order_id: int, actor: str) -> Order:
    """The operator checked the provider: it does not have the order. Send it again - unless
    the customer asked to cancel it meanwhile: then it is canceled, with a full refund."""
    order = _held(order_id)
    if order.cancel_requested_at is not None and not order.is_subscription:
        return order_transition(
            order_id=order_id,
            to=S.CANCELED,
            expected=S(order.status),
            actor=actor,
            data={"reason": "canceled by the customer; the provider does not have it"},
            guard=Q(forward_state=ForwardState.HELD),
            extra={"forward_state": ForwardState.UNSENT, "next_check_at": None, "last_error": ""},
        )
    if order.status in FINAL_STATUSES:
        # A subscription stopped or expired while held: there is nothing left to send.
        with transaction.atomic(durable=True):
            if not Order.objects.filter(pk=order_id, forward_state=ForwardState.HELD).update(
                forward_state=ForwardState.UNSENT, next_check_at=None, last_error=""
            ):
                raise ConflictError(f"Order #{order_id} changed meanwhile")
            OrderEvent.objects.create(
                order_id=order_id, kind="not_resent", from_status=order.status,
                to_status=order.status, actor=actor, data={"reason": f"it is {order.status}"},
            )  # fmt: skip
        order.refresh_from_db()
        return order
    with transaction.atomic(durable=True):
        # Pending, or a subscription (Active from the start; a paused one is sent on resume).
        if not Order.objects.filter(
            pk=order_id,
            forward_state=ForwardState.HELD,
            status__in=[S.PENDING, S.ACTIVE, S.PAUSED],
        ).update(forward_state=ForwardState.QUEUED, next_check_at=timezone.now(), last_error=""):
            raise ConflictError(f"Order #{order_id} changed meanwhile")
        OrderEvent.objects.create(
            order_id=order_id, kind="resend", from_status=order.status, to_status=order.status,
            actor=actor,
        )  # fmt: skip
    order.refresh_from_db()
    return order


def _owner_of(order: Order, provider_order_id: int) -> int | None:
    """The other order that already follows this provider order, if any."""
    if order.provider_id is None:
        return None  # by hand: no provider's ids to clash with
    return (
        Order.objects.filter(provider_id=order.provider_id, provider_order_id=provider_order_id)
        .exclude(pk=order.pk)
        .values_list("pk", flat=True)
        .first()
    )


def held_attach(*, order_id: int, provider_order_id: int, actor: str) -> Order:
    """The operator found the order at the provider: follow it under this id. An id that
    another order of the same provider follows is refused (a database constraint too): one
    delivery must never be refunded or charged as two orders. A cancel the customer asked
    for meanwhile goes to the provider at once."""
    order = _held(order_id)
    if provider_order_id <= 0:
        raise PanelError("The provider's order id must be a positive number")
    owner = _owner_of(order, provider_order_id)
    if owner is not None:
        raise ConflictError(f"Provider order {provider_order_id} already belongs to order #{owner}")
    now = timezone.now()
    changes: dict[str, Any] = {
        "forward_state": ForwardState.SENT,
        "provider_order_id": provider_order_id,
        "next_check_at": now,
        "last_error": "",
    }
    if order.is_subscription and order.status == S.PAUSED and order.cancel_requested_at is None:
        # Paused while held: API v2 has no pause, so it is canceled at the provider like
        # any paused subscription there (and placed anew on resume).
        changes["cancel_requested_at"] = now
    try:
        with transaction.atomic(durable=True):
            if not Order.objects.filter(pk=order_id, forward_state=ForwardState.HELD).update(
                **changes
            ):
                raise ConflictError(f"Order #{order_id} changed meanwhile")
            requested = order.cancel_requested_at is not None or "cancel_requested_at" in changes
            OrderEvent.objects.create(
                order_id=order_id, kind="attached", from_status=order.status,
                to_status=order.status, actor=actor,
                data={"provider_order": provider_order_id,
                      **({"cancel_requested": True} if requested else {})},
            )  # fmt: skip
    except IntegrityError:
        # Another operator attached the same id to another order at the same moment.
        owner = _owner_of(order, provider_order_id)
        raise ConflictError(
            f"Provider order {provider_order_id} already belongs to order #{owner}"
        ) from None
    order.refresh_from_db()
    return order


def held_refund(*, order_id: int, actor: str) -> Order:
    """Give up on a held order: cancel it with a full refund."""
    order = _held(order_id)
    return order_transition(
        order_id=order_id,
        to=S.CANCELED,
        expected=S(order.status),
        actor=actor,
        data={"reason": "held order refunded by the operator"},
        guard=Q(forward_state=ForwardState.HELD),
        extra={"forward_state": ForwardState.FAILED, "next_check_at": None},
    )
