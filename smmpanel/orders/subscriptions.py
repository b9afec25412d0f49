"""Subscriptions: a watched account whose posts each get an order, paid for post by post.

A subscription is fulfilled by hand (the operator reports each post with
`subscription_deliver_post`) or by a provider's Subscriptions service (the worker forwards
it, and every order the provider creates for a post is recorded with `subscription_post_seen`).
Either way each post is a child order charged at the subscription's rate when it is seen;
the subscription itself is never charged nor refunded, and its children refund themselves.

Statuses: Active, Paused, Completed (all posts done), Expired (past `expiry`), Canceled.

- A post the balance cannot pay is refused and pauses the subscription (`paused_for`
  "funds"); the worker resumes it by itself once the balance pays for its largest post.
- The operator pauses, resumes and stops one; a customer stops one with `cancel`.
- Paused and stopped take effect at once here. A provider has no "pause", so its
  subscription is canceled there, and a resume places a new one for the posts still to
  come; posts it creates meanwhile are not charged to the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smmpanel.billing.models import EntryKind
from smmpanel.billing.services import customer_lock, ledger_post
from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import ConflictError, ErrorCode, PanelError
from smmpanel.core.money import ZERO, price, quantize
from smmpanel.core.queue import lease_free
from smmpanel.orders.kinds import (
    Drive,
    OrderKind,
    OrderSpec,
    ServiceTerms,
    by_provider_or_hand,
    expiry_end_of,
    orders_driven,
    register,
)
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.request import EXPIRY_FORMAT, OrderRequest
from smmpanel.orders.services import order_transition, order_transition_locked
from smmpanel.orders.states import OrderStatus, can_transition
from smmpanel.orders.validation import SUBSCRIPTION_DELAYS, clean_expiry, whole

if TYPE_CHECKING:
    from smmpanel.catalog.models import Service

S = OrderStatus
F_ = ForwardState
LIVE = (S.ACTIVE, S.PAUSED)
#: How often a subscription paused for funds looks at the balance again.
FUNDS_RECHECK = timedelta(minutes=5)

PAUSED_FOR_FUNDS = "funds"
PAUSED_BY_OPERATOR = "operator"


@dataclass(frozen=True)
class SubscriptionKind(OrderKind):
    """Watches an account and delivers to each new post: Active until it ends, paid and
    refunded post by post as child orders, never as a whole (this module drives it)."""

    optional: tuple[str, ...] = ("posts", "old_posts", "expiry")
    drive: Drive = Drive.SUBSCRIPTION
    refillable: bool = False

    def _price(self, terms: ServiceTerms, request: OrderRequest, spec: OrderSpec) -> None:
        fields = spec.fields
        low, high = whole(request, "min"), whole(request, "max")
        if low < terms.min:
            raise PanelError(ErrorCode.QUANTITY_LESS, field="min", min=terms.min)
        if high > terms.max:
            raise PanelError(ErrorCode.QUANTITY_MORE, field="max", max=terms.max)
        if low > high:
            raise PanelError(ErrorCode.MIN_ABOVE_MAX, field="min")
        delay = whole(request, "delay")
        if delay not in SUBSCRIPTION_DELAYS:
            allowed = ", ".join(str(d) for d in SUBSCRIPTION_DELAYS)
            raise PanelError(ErrorCode.DELAY_NOT_OFFERED, field="delay", allowed=allowed)
        fields.update(sub_min=low, sub_max=high, sub_delay=delay, link=fields["username"])
        if request.given("posts"):
            fields["sub_posts"] = whole(request, "posts", minimum=1)
        if request.given("old_posts"):
            fields["sub_old_posts"] = whole(request, "old_posts")
        if request.given("expiry"):
            fields["sub_expiry"] = clean_expiry(request)
        spec.status = OrderStatus.ACTIVE
        # Paid per post as posts arrive; it must at least afford the largest first one.
        spec.funds_needed = price(terms.rate, high)

    def fulfilment(
        self, service: Service, fields: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        # By hand, the worker looks at it when its expiry day is over.
        return by_provider_or_hand(
            service, now, by_hand_next=expiry_end_of(fields.get("sub_expiry"))
        )

    def can_transition(self, current: str, to: str) -> bool:
        return can_transition(current, to, subscription=True)

    def refuse_by_hand(self, order: Order, step: str) -> None:
        if step == "fulfil":
            raise ConflictError(
                f"Order #{order.pk} is a subscription: pause, resume, stop or expire it instead"
            )
        if step == "settle":
            raise ConflictError(f"Order #{order.pk} is a subscription: stop or expire it instead")

    def counters(self, order: Order, to: str, remains: int | None) -> dict[str, Any]:
        return {}  # its posts' orders count their own delivery

    def refund(self, order: Order, status: str, remains: int) -> Decimal:
        return ZERO

    def stop(self, *, order_id: int, actor: str, reason: str, customer: bool) -> Order | None:
        # Stops at once, whoever asks: nothing of it is refundable, and no further post is
        # charged; one at a provider is canceled there by the worker.
        return subscription_stop(order_id=order_id, actor=actor, reason=reason)

    def status_reply(self, order: Order, reply: dict[str, Any], children: list[int]) -> None:
        del reply["start_count"], reply["remains"]
        reply["posts"] = str(order.posts_delivered)
        reply["orders"] = children
        reply["expiry"] = order.sub_expiry.strftime(EXPIRY_FORMAT) if order.sub_expiry else None

    def upstream_params(self, order: Order) -> dict[str, str]:
        params = super().upstream_params(order)
        if order.posts_delivered:
            params.update(_posts_still_to_come(order))
        return params


def _posts_still_to_come(order: Order) -> dict[str, str]:
    """A subscription placed anew after a pause asks only for the posts it still lacks:
    old posts are delivered first, so those count against `old_posts` before `posts`."""
    old = order.sub_old_posts or 0
    old_done = min(order.posts_delivered, old)
    new_done = order.posts_delivered - old_done
    params = {"old_posts": str(old - old_done)}
    if order.sub_posts is not None:
        params["posts"] = str(max(order.sub_posts - new_done, 1))
    return params


register(SubscriptionKind(ServiceType.SUBSCRIPTIONS, ("username", "min", "max", "delay")))


def _subscription(order_id: int) -> Order:
    order = Order.objects.filter(orders_driven(Drive.SUBSCRIPTION), pk=order_id).first()
    if order is None:
        raise PanelError(ErrorCode.INCORRECT_ORDER)
    return order


def expiry_end(order: Order) -> datetime | None:
    """When the subscription's last day (`expiry`, UTC) is over."""
    return expiry_end_of(order.sub_expiry)


def is_expired(order: Order, now: datetime) -> bool:
    end = expiry_end(order)
    return end is not None and now >= end


def posts_total(order: Order) -> int | None:
    """Posts that end the subscription: `posts` new ones and `old_posts` existing ones."""
    if order.sub_posts is None:
        return None
    return order.sub_posts + (order.sub_old_posts or 0)


def _event(order_id: int, kind: str, frm: str, to: str, actor: str, **data: Any) -> None:
    OrderEvent.objects.create(
        order_id=order_id, kind=kind, from_status=frm, to_status=to, actor=actor, data=data
    )


# -- posts ----------------------------------------------------------------------------------


def _charge_post(
    parent_id: int, quantity: int, child: dict[str, Any], actor: str, *, upstream: int | None
) -> Order | None:
    """One post: a child order charged at the subscription's rate, under the customer's and
    the subscription's locks. None, with the subscription paused for funds, when the
    balance cannot pay; None when the post (by its provider id) was already recorded."""
    parent = Order.objects.get(pk=parent_id)
    charge = price(parent.rate, quantity)
    now = timezone.now()
    with transaction.atomic(durable=True):
        customer = customer_lock(parent.customer_id)
        parent = Order.objects.select_for_update().get(pk=parent_id)
        if parent.status != S.ACTIVE:
            raise ConflictError(f"Subscription #{parent_id} is {parent.status}, not Active")
        if upstream is not None and _recorded(parent, upstream):
            return None
        if customer.balance < charge:
            why = f"not enough funds for a post ({charge})"
            _pause(parent, PAUSED_FOR_FUNDS, actor, now, why=why)
            if upstream is not None:
                _event(parent_id, "post_refused", S.PAUSED, S.PAUSED, actor,
                       provider_order=upstream, quantity=quantity)  # fmt: skip
            return None
        order = Order.objects.create(
            customer_id=parent.customer_id,
            service_id=parent.service_id,
            type=ServiceType.DEFAULT,
            parent=parent,
            quantity=quantity,
            rate=parent.rate,
            charged_quantity=quantity,
            charge=charge,
            remains=quantity,
            **child,
        )
        if charge > ZERO:
            ledger_post(
                customer=customer,
                kind=EntryKind.CHARGE,
                amount=-charge,
                order_id=order.pk,
                memo=f"Order #{order.pk} (subscription #{parent.pk})",
            )
        delivered = parent.posts_delivered + 1
        total = posts_total(parent)
        done = total is not None and delivered >= total
        counters = {"posts_delivered": delivered, "charge": quantize(parent.charge + charge)}
        OrderEvent.objects.create(order=order, kind="placed", to_status=order.status, actor=actor)
        _event(parent.pk, "post", S.ACTIVE, S.COMPLETED if done else S.ACTIVE, actor,
               child=order.pk, quantity=quantity)  # fmt: skip
        if done:
            order_transition_locked(
                order=parent, to=S.COMPLETED, expected=S.ACTIVE, actor=actor,
                data={"reason": f"all {total} posts delivered"}, extra=counters,
            )  # fmt: skip
        else:
            Order.objects.filter(pk=parent.pk).update(updated_at=now, **counters)
    return order


def _recorded(parent: Order, upstream: int) -> bool:
    """This provider order is already an order here: this subscription's post, seen before,
    or (at the same provider) any other order, which must not be charged a second time."""
    same = Q(parent_id=parent.pk)
    if parent.provider_id is not None:
        same |= Q(provider_id=parent.provider_id)
    return Order.objects.filter(same, provider_order_id=upstream).exists()


def subscription_deliver_post(*, order_id: int, link: str, quantity: int, actor: str) -> Order:
    """A new post of a subscription fulfilled by hand: a child order for it, charged now.
    When the balance cannot pay, the subscription pauses (and that is what is returned)."""
    from smmpanel.orders.validation import clean_link

    parent = _subscription(order_id)
    if parent.status != S.ACTIVE:
        raise ConflictError(f"Subscription #{order_id} is {parent.status}, not Active")
    low, high = parent.sub_min or 0, parent.sub_max or 0
    if not low <= quantity <= high:
        raise PanelError(f"quantity must be between {low} and {high}")
    post_link = clean_link(link)
    if is_expired(parent, timezone.now()):
        subscription_expire(order_id=order_id, actor=actor)
        raise ConflictError(f"Subscription #{order_id} expired on {parent.sub_expiry:%d/%m/%Y}")
    child = _charge_post(parent.pk, quantity, {"link": post_link}, actor, upstream=None)
    if child is None:
        return Order.objects.get(pk=order_id)
    return child


def upstream_post_quantity(order: Order, provider_charge: Any, remains: int | None) -> int:
    """How many units the provider's order for a post is for. API v2 does not say; its
    charge at the provider's rate does. Without a usable charge, what still remains of a
    post not yet started; failing that the least the subscription asked for. Always within
    the subscription's min..max, which is what the customer agreed to pay for."""
    low, high = order.sub_min or 0, order.sub_max or 0
    rate = order.service.provider_rate
    quantity: int | None = None
    if provider_charge is not None and rate:
        quantity = int((provider_charge * 1000 / rate).to_integral_value())
    elif remains:
        quantity = remains
    return max(low, min(high, quantity if quantity is not None else low))


def subscription_post_seen(
    *, order_id: int, provider_order_id: int, quantity: int, actor: str
) -> Order | None:
    """The provider created an order for a post: record it as a child order, charged now, and
    followed at the provider like any forwarded order. Seeing it twice records it once."""
    parent = _subscription(order_id)
    child = {
        "link": parent.link,
        "provider_id": parent.provider_id,
        "provider_service_id": parent.provider_service_id,
        "provider_order_id": provider_order_id,
        "forward_state": F_.SENT,
        "next_check_at": timezone.now(),
    }
    return _charge_post(parent.pk, quantity, child, actor, upstream=provider_order_id)


# -- pause, resume, stop, expire ------------------------------------------------------------


def _pause(parent: Order, reason: str, actor: str, now: datetime, *, why: str) -> None:
    """Pause inside the caller's transaction, the subscription row locked."""
    upstream = parent.forward_state == F_.SENT and parent.cancel_sent_at is None
    order_transition_locked(
        order=parent,
        to=S.PAUSED,
        expected=S.ACTIVE,
        actor=actor,
        data={"reason": why},
        extra={
            "paused_for": reason,
            "updated_at": now,
            # A provider's subscription is canceled there (no pause in API v2), at once.
            "cancel_requested_at": now if upstream else parent.cancel_requested_at,
            "next_check_at": now if upstream else chores_at(parent, reason, now),
        },
    )


def chores_at(order: Order, paused_for: str, now: datetime) -> datetime | None:
    """When the worker should next look at a subscription it does not poll: for the funds
    of one paused for funds, and for the end of its expiry day."""
    times = [t for t in (expiry_end(order),) if t is not None]
    if paused_for == PAUSED_FOR_FUNDS:
        times.append(now + FUNDS_RECHECK)
    return min(times) if times else None


def subscription_pause(*, order_id: int, actor: str) -> Order:
    """The operator pauses a subscription: no post is charged until it resumes."""
    _subscription(order_id)
    with transaction.atomic(durable=True):
        parent = Order.objects.select_for_update().get(pk=order_id)
        if parent.status != S.ACTIVE:
            raise ConflictError(f"Subscription #{order_id} is {parent.status}, not Active")
        _pause(parent, PAUSED_BY_OPERATOR, actor, timezone.now(), why="paused by the operator")
    return Order.objects.get(pk=order_id)


def subscription_resume(*, order_id: int, actor: str) -> Order:
    """Resume a paused subscription. One whose provider's subscription was canceled by the
    pause is placed there again, for the posts still to come."""
    _subscription(order_id)
    now = timezone.now()
    with transaction.atomic(durable=True):
        parent = Order.objects.select_for_update().get(pk=order_id)
        if parent.status != S.PAUSED:
            raise ConflictError(f"Subscription #{order_id} is {parent.status}, not Paused")
        if is_expired(parent, now):
            raise ConflictError(f"Subscription #{order_id} expired on {parent.sub_expiry:%d/%m/%Y}")
        if parent.lease_until is not None and parent.lease_until >= now:
            raise ConflictError(f"Subscription #{order_id} is being worked on; try again shortly")
        changes: dict[str, Any] = {"paused_for": "", "updated_at": now}
        if parent.forward_state == F_.SENT and parent.cancel_sent_at is not None:
            # Canceled at the provider by the pause: place it there anew.
            changes.update(
                forward_state=F_.QUEUED, provider_order_id=None, cancel_requested_at=None,
                cancel_sent_at=None, provider_status="", next_check_at=now, attempts=0,
            )  # fmt: skip
        elif parent.forward_state == F_.SENT:
            # The provider's cancel had not gone out yet: keep following the same one.
            changes.update(cancel_requested_at=None, next_check_at=now)
        elif parent.forward_state == F_.QUEUED:
            changes["next_check_at"] = now  # paused before it was ever sent: send it now
        else:
            changes["next_check_at"] = chores_at(parent, "", now)
        previous = parent.provider_order_id
        order_transition_locked(
            order=parent, to=S.ACTIVE, expected=S.PAUSED, actor=actor, extra=changes,
            data={"reason": "resumed", "previous_provider_order": previous},
        )  # fmt: skip
    return Order.objects.get(pk=order_id)


def subscription_stop(*, order_id: int, actor: str, reason: str) -> Order:
    """Stop a subscription at once: Canceled, nothing refunded (its posts' orders go on and
    refund themselves). A provider's subscription is canceled there by the worker."""
    return _end(order_id, S.CANCELED, actor=actor, reason=reason)


def subscription_expire(*, order_id: int, actor: str, reason: str | None = None) -> Order:
    """End a subscription as Expired: past its expiry day (the worker), or when the operator
    says so. A provider's subscription is canceled there by the worker, as for a stop."""
    order = _subscription(order_id)
    if reason is None:
        reason = f"expired on {order.sub_expiry:%d/%m/%Y}" if order.sub_expiry else ""
    return _end(order_id, S.EXPIRED, actor=actor, reason=reason)


def _end(order_id: int, to: OrderStatus, *, actor: str, reason: str) -> Order:
    """End a live subscription now. One at a provider gets the provider's cancel (the
    worker's cancel pass), one not sent yet is never sent; posts seen after it are not
    charged."""
    order = _subscription(order_id)
    if order.status not in LIVE:
        raise PanelError(ErrorCode.CANCEL_FINISHED)
    now = timezone.now()
    extra: dict[str, Any] = {"paused_for": ""}
    guard = Q(forward_state=order.forward_state)
    if to == S.CANCELED or order.forward_state != F_.MANUAL:
        # A stop is a cancel request, and so is any end of one a provider may have.
        extra["cancel_requested_at"] = now
    if order.forward_state == F_.QUEUED:
        # Not sent yet: it never will be, unless a worker is sending it right now; then
        # the sent one gets its cancel as soon as it is recorded (worker._sent).
        guard &= lease_free(now)
        extra["forward_state"] = F_.UNSENT
    elif order.forward_state == F_.SENT and order.cancel_sent_at is None:
        extra["next_check_at"] = now  # the worker sends the provider's cancel
    try:
        return order_transition(
            order_id=order_id, to=to, expected=S(order.status), actor=actor,
            data={"reason": reason}, guard=guard, extra=extra,
        )  # fmt: skip
    except ConflictError:
        order.refresh_from_db()
        if order.status not in LIVE:
            raise PanelError(ErrorCode.CANCEL_FINISHED) from None
        # Changed meanwhile (a worker took it up): end it as it stands now.
        return order_transition(
            order_id=order_id, to=to, expected=S(order.status), actor=actor,
            data={"reason": reason}, extra={"paused_for": "", "cancel_requested_at": now,
                                            "next_check_at": now},
        )  # fmt: skip


def subscription_chores(*, order_id: int, owner: str) -> None:
    """The worker's look at a subscription it does not poll: end it past its expiry day;
    resume it once the balance pays for its largest post; set when to look again."""
    from smmpanel.accounts.models import Customer

    order = Order.objects.get(pk=order_id)
    now = timezone.now()
    actor = f"worker:{owner}"
    if order.status not in LIVE or order.lease_owner != owner:
        return
    if is_expired(order, now):
        subscription_expire(order_id=order_id, actor=actor)
        return
    release = {"lease_until": None, "lease_owner": ""}
    if order.status == S.PAUSED and order.paused_for == PAUSED_FOR_FUNDS:
        balance = Customer.objects.values_list("balance", flat=True).get(pk=order.customer_id)
        if balance >= price(order.rate, order.sub_max or 0):
            Order.objects.filter(pk=order_id, lease_owner=owner).update(**release)
            subscription_resume(order_id=order_id, actor=actor)
            return
    Order.objects.filter(pk=order_id, lease_owner=owner).update(
        next_check_at=chores_at(order, order.paused_for, now), **release
    )
