"""Every row the worker writes: its orders' and refills' forwarding and following bookkeeping,
and its providers' health and balance.

The worker claims rows (core/queue.py) and talks to providers with no transaction open; what
it learns is recorded here, each write conditional on what made it right when the worker
decided — above all that the row is still leased to the worker (`owner`), so a worker whose
lease lapsed records nothing over another's work. A status changes only through
`orders.services.order_transition`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Model, Q, Value, When
from django.utils import timezone

from smmpanel.core.errors import PanelError
from smmpanel.orders.models import ForwardState, Order, OrderEvent, Refill
from smmpanel.orders.services import order_transition, refill_transition
from smmpanel.orders.states import SENDABLE_STATUSES, OrderStatus, RefillStatus
from smmpanel.providers.models import Provider

F_ = ForwardState
S = OrderStatus
#: Gives a claimed row back.
_RELEASE: dict[str, Any] = {"lease_until": None, "lease_owner": ""}


def _actor(owner: str) -> str:
    return f"worker:{owner}"


def order_event_noted(*, order_id: int, kind: str, status: str, owner: str, **data: Any) -> None:
    """A note in an order's history that changes nothing else (a retry, an unknown status)."""
    OrderEvent.objects.create(
        order_id=order_id,
        kind=kind,
        from_status=status,
        to_status=status,
        actor=_actor(owner),
        data=data,
    )


# -- forwarding -------------------------------------------------------------------------------


def order_forward_abandoned(*, owner: str, now: datetime) -> int:
    """Orders whose sender stopped between marking them as sending and recording the answer
    (the lease lapsed): the provider may or may not have them, so they are held for the
    operator, never resent. Returns how many were found."""
    stale = list(
        Order.objects.filter(forward_state=F_.SENDING, lease_until__lt=now).values_list(
            "id", "status"
        )
    )
    for order_id, status in stale:
        with transaction.atomic():
            if Order.objects.filter(
                pk=order_id, forward_state=F_.SENDING, lease_until__lt=now
            ).update(
                forward_state=F_.HELD,
                lease_until=None,
                lease_owner="",
                next_check_at=None,
                last_error="the worker sending it stopped; it may exist upstream",
            ):
                order_event_noted(
                    order_id=order_id,
                    kind="held",
                    status=status,
                    owner=owner,
                    reason="worker lost while sending",
                )
    return len(stale)


def order_forward_canceled(*, order_id: int, status: str, owner: str) -> None:
    """Asked to cancel while the worker held it, before it was sent: it never will be."""
    with contextlib.suppress(PanelError):
        order_transition(
            order_id=order_id,
            to=S.CANCELED,
            expected=OrderStatus(status),
            actor=_actor(owner),
            data={"reason": "canceled by the customer before it was sent"},
            guard=Q(forward_state=F_.QUEUED, lease_owner=owner),
            extra={
                "forward_state": F_.UNSENT,
                "lease_until": None,
                "lease_owner": "",
                "next_check_at": None,
            },
        )


def order_forward_postponed(*, order_id: int, owner: str, until: datetime, reason: str) -> None:
    """Its provider asked to be left alone until `until`: back in the queue until then."""
    Order.objects.filter(pk=order_id, lease_owner=owner, forward_state=F_.QUEUED).update(
        next_check_at=until, lease_until=None, lease_owner="", last_error=reason
    )


def order_forward_started(*, order_id: int, owner: str, lease_until: datetime) -> bool:
    """Mark the order as being sent: from here until its answer is recorded it may exist
    upstream. False when it may not be sent any more (one that ended meanwhile — a
    subscription stopped, say — is taken off the queue for good)."""
    if Order.objects.filter(
        pk=order_id, lease_owner=owner, forward_state=F_.QUEUED, status__in=SENDABLE_STATUSES
    ).update(forward_state=F_.SENDING, lease_until=lease_until, attempts=F("attempts") + 1):
        return True
    Order.objects.filter(pk=order_id, lease_owner=owner, forward_state=F_.QUEUED).exclude(
        status__in=SENDABLE_STATUSES
    ).update(forward_state=F_.UNSENT, lease_until=None, lease_owner="", next_check_at=None)
    return False


def order_forward_requeued(
    *, order: Order, owner: str, next_at: datetime, error: str, fault: str
) -> None:
    """The provider surely does not have it: send it again at `next_at`. One event when the
    order starts waiting on a fault and one each time the fault changes: retries are not
    silent, and an order retried for days has a short history."""
    with transaction.atomic():
        if Order.objects.filter(pk=order.pk, forward_state=F_.SENDING, lease_owner=owner).update(
            forward_state=F_.QUEUED,
            next_check_at=next_at,
            lease_until=None,
            lease_owner="",
            last_error=error,
        ):
            last = order.events.order_by("-id").values_list("kind", "data").first()
            if last is not None and last[0] == "retrying" and last[1].get("fault") == fault:
                return
            order_event_noted(
                order_id=order.pk,
                kind="retrying",
                status=order.status,
                owner=owner,
                fault=fault,
                reason=error,
            )


def order_forward_held(*, order_id: int, status: str, owner: str, error: str) -> None:
    """The send may have reached the provider: it waits for the operator, never resent."""
    with transaction.atomic():
        if Order.objects.filter(pk=order_id, forward_state=F_.SENDING, lease_owner=owner).update(
            forward_state=F_.HELD,
            next_check_at=None,
            lease_until=None,
            lease_owner="",
            last_error=error,
        ):
            order_event_noted(
                order_id=order_id, kind="held", status=status, owner=owner, reason=error
            )


def order_forward_refused(
    *, order_id: int, status: str, owner: str, message: str, error: str
) -> None:
    """The provider refused the order itself: it fails, refunded in full. Raises PanelError
    when it could not be recorded (it changed meanwhile)."""
    order_transition(
        order_id=order_id,
        to=S.CANCELED,
        expected=OrderStatus(status),
        actor=_actor(owner),
        data={"reason": f"the provider refused the order: {message}"},
        guard=Q(forward_state=F_.SENDING, lease_owner=owner),
        extra={
            "forward_state": F_.FAILED,
            "lease_until": None,
            "lease_owner": "",
            "last_error": error,
        },
    )


def order_forward_recorded(
    *,
    order_id: int,
    status: str,
    owner: str,
    provider_order_id: int,
    now: datetime,
    poll_at: datetime,
) -> None:
    """The provider took the order as `provider_order_id`. Recorded even if the lease lapsed
    meanwhile (held by the recovery): the provider has it, whatever else happened."""
    with transaction.atomic():
        recorded = Order.objects.filter(
            pk=order_id,
            forward_state__in=[F_.SENDING, F_.HELD],
            provider_order_id__isnull=True,
        ).update(
            forward_state=F_.SENT,
            provider_order_id=provider_order_id,
            lease_until=None,
            lease_owner="",
            last_error="",
            # A cancel asked for while it was being sent goes out at once.
            next_check_at=Case(
                When(cancel_requested_at__isnull=False, then=Value(now)),
                default=Value(poll_at),
            ),
        )
        if recorded:
            order_event_noted(
                order_id=order_id,
                kind="forwarded",
                status=status,
                owner=owner,
                provider_order=provider_order_id,
            )


# -- looking again ----------------------------------------------------------------------------


def work_later(*, model: type[Model], ids: Sequence[int], owner: str, at: datetime) -> None:
    """Claimed rows (orders or refills) that are fine: look again at `at`, in one UPDATE."""
    if ids:
        model._default_manager.filter(pk__in=list(ids), lease_owner=owner).update(
            next_check_at=at, attempts=0, **_RELEASE
        )


def work_retry(
    *, model: type[Model], row_id: int, owner: str, attempts: int, at: datetime, error: str
) -> None:
    """A claimed row whose work failed this time: its failures counted, looked at again at `at`."""
    model._default_manager.filter(pk=row_id, lease_owner=owner).update(
        next_check_at=at, attempts=attempts, last_error=error, **_RELEASE
    )


def work_released(*, model: type[Model], row_id: int, owner: str) -> None:
    """Give a claimed row back as it is."""
    model._default_manager.filter(pk=row_id, lease_owner=owner).update(**_RELEASE)


# -- following orders -------------------------------------------------------------------------


def order_cancel_sent(
    *, order_id: int, status: str, owner: str, now: datetime, next_at: datetime | None, refused: str
) -> None:
    """The cancel went to the provider (refused when `refused` says why)."""
    with transaction.atomic():
        Order.objects.filter(pk=order_id, lease_owner=owner).update(
            cancel_sent_at=now,
            next_check_at=next_at,
            lease_until=None,
            lease_owner="",
            last_error=f"cancel refused upstream: {refused}" if refused else "",
        )
        order_event_noted(
            order_id=order_id,
            kind="cancel_refused" if refused else "cancel_sent",
            status=status,
            owner=owner,
            **({"reason": refused} if refused else {}),
        )


def order_status_unknown(
    *,
    order: Order,
    owner: str,
    upstream: str,
    next_at: datetime,
    bookkeeping: Mapping[str, Any],
) -> None:
    """The provider's status is one we do not know: recorded and shown, never applied."""
    if order.provider_status != upstream:
        order_event_noted(
            order_id=order.pk, kind="unknown_status", status=order.status, owner=owner,
            upstream=upstream,
        )  # fmt: skip
    Order.objects.filter(pk=order.pk, lease_owner=owner).update(
        next_check_at=next_at,
        last_error=f"unknown upstream status {upstream!r}"[:500],
        **bookkeeping,
    )


def order_status_followed(
    *,
    order: Order,
    to: OrderStatus,
    owner: str,
    upstream: str,
    remains: int | None,
    start_count: int | None,
    extra: Mapping[str, Any],
) -> None:
    """The provider moved the order on: its status follows. Raises PanelError when it cannot
    (it changed meanwhile, or the reply makes no sense)."""
    order_transition(
        order_id=order.pk,
        to=to,
        expected=OrderStatus(order.status),
        actor=_actor(owner),
        remains=remains,
        start_count=start_count,
        guard=Q(lease_owner=owner),
        extra=extra,
        data={"upstream": upstream},
    )


def order_progress_followed(
    *, order: Order, owner: str, next_at: datetime, changes: Mapping[str, Any]
) -> None:
    """The provider's progress on a running order (no status change) and when to look again."""
    Order.objects.filter(pk=order.pk, lease_owner=owner, status=order.status).update(
        next_check_at=next_at, last_error="", **changes
    )


# -- subscriptions ----------------------------------------------------------------------------


def subscription_ended_upstream(
    *, sub_id: int, to: OrderStatus, owner: str, upstream: str, extra: Mapping[str, Any]
) -> bool:
    """End a live subscription as its provider (or its expiry date) says. False when it was
    not live any more, or changed meanwhile."""
    current = Order.objects.filter(pk=sub_id).values_list("status", flat=True).first()
    if current not in (S.ACTIVE, S.PAUSED):
        return False
    try:
        order_transition(
            order_id=sub_id,
            to=to,
            expected=OrderStatus(current),
            actor=_actor(owner),
            guard=Q(lease_owner=owner),
            extra=extra,
            data={"upstream": upstream},
        )
    except PanelError:
        return False
    return True


def subscription_followed(
    *, sub_id: int, owner: str, now: datetime, poll_at: datetime, bookkeeping: Mapping[str, Any]
) -> None:
    """Record a look at a subscription at its provider and when to look again."""
    Order.objects.filter(pk=sub_id, lease_owner=owner).update(
        next_check_at=Case(
            # Paused for funds just now, or paused or stopped meanwhile by someone else:
            # its cancel at the provider is due (the cancel pass looks for it now).
            When(cancel_requested_at__isnull=False, cancel_sent_at__isnull=True, then=Value(now)),
            When(status=S.ACTIVE, then=Value(poll_at)),
            default=Value(None),
        ),
        **bookkeeping,
    )


# -- refills ----------------------------------------------------------------------------------


def refill_forward_recorded(
    *, refill_id: int, owner: str, provider_refill_id: int, poll_at: datetime
) -> None:
    """The provider took the refill as `provider_refill_id`."""
    Refill.objects.filter(pk=refill_id, lease_owner=owner).update(
        forward_state=F_.SENT,
        provider_refill_id=provider_refill_id,
        next_check_at=poll_at,
        lease_until=None,
        lease_owner="",
        last_error="",
    )


def refill_forward_refused(*, refill_id: int, owner: str, why: str) -> None:
    """The provider refused the refill: it is Rejected."""
    Refill.objects.filter(pk=refill_id).update(
        forward_state=F_.FAILED, last_error=why[:500], next_check_at=None
    )
    with contextlib.suppress(PanelError):
        refill_transition(refill_id=refill_id, to=RefillStatus.REJECTED, actor=_actor(owner))


def refill_status_followed(
    *, refill: Refill, owner: str, to: RefillStatus | None, next_at: datetime | None
) -> None:
    """The provider's refill status: followed when it moves the refill on; looked at again
    at `next_at` (None: never, it has ended)."""
    if to is not None:
        with contextlib.suppress(PanelError):
            refill_transition(refill_id=refill.pk, to=to, actor=_actor(owner))
    Refill.objects.filter(pk=refill.pk, lease_owner=owner).update(
        next_check_at=next_at, lease_until=None, lease_owner=""
    )


# -- providers --------------------------------------------------------------------------------


def provider_failure_noted(*, provider: Provider, summary: str) -> None:
    """One line for the operator's list of providers; the full text is in the log."""
    Provider.objects.filter(pk=provider.pk).update(last_error=summary, last_error_at=timezone.now())
    provider.last_error = summary


def provider_recovered(*, provider: Provider) -> None:
    """The provider answered: clear a stale error so the operator sees it recovered."""
    if provider.last_error:
        Provider.objects.filter(pk=provider.pk).update(last_error="")
        provider.last_error = ""


def provider_balance_claimed(*, provider: Provider, now: datetime) -> bool:
    """Claim the balance check by moving its timestamp first, so several workers don't all ask."""
    return bool(
        Provider.objects.filter(
            pk=provider.pk, balance_checked_at=provider.balance_checked_at
        ).update(balance_checked_at=now)
    )


def provider_balance_recorded(*, provider: Provider, balance: Decimal, currency: str) -> None:
    Provider.objects.filter(pk=provider.pk).update(
        balance=balance, currency=currency[:3] or provider.currency
    )
