"""Every write to an order or refill. One transaction per use case; customer locked first.

The operator's hand fulfilment (start, progress, complete, partial, cancel; accept or
reject a refill) is here too: until an order has a provider, these are its fulfiller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import EntryKind
from smmpanel.billing.services import InsufficientFunds, customer_lock, ledger_post
from smmpanel.catalog.selectors import service_for_customer
from smmpanel.core.errors import ConflictError, ErrorCode, PanelError
from smmpanel.core.money import ZERO
from smmpanel.core.parsing import MAX_WHOLE
from smmpanel.core.queue import lease_free
from smmpanel.orders.kinds import checked_remains, kind_of
from smmpanel.orders.models import ForwardState, Order, OrderEvent, Refill
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.selectors import order_quote
from smmpanel.orders.states import (
    ACTIVE_REFILL_STATUSES,
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    REFILLABLE,
    REFUND_ALL,
    REFUND_REMAINS,
    OrderStatus,
    RefillStatus,
    can_transition_refill,
)

S = OrderStatus


def order_place(
    *,
    customer: Customer,
    service_id: int | None,
    params: OrderRequest,
    actor: str = "api",
) -> Order:
    """Check, charge and record a new order; all of it commits together or none of it.
    `params` is what was asked, typed (the API reads it from the wire's text, a page from
    its form)."""
    service = service_for_customer(customer, service_id) if service_id else None
    quote = order_quote(customer=customer, service=service, request=params)
    service, rate, kind, spec = quote.service, quote.rate, quote.kind, quote.spec

    with transaction.atomic(durable=True):
        locked = customer_lock(customer.pk)
        link = spec.fields.get("link")
        if (
            link
            and Order.objects.filter(
                customer_id=customer.pk,
                service_id=service.pk,
                status__in=ACTIVE_STATUSES,
                link=link,
            ).exists()
        ):
            raise PanelError(ErrorCode.ACTIVE_ORDER_LINK)
        if locked.balance < spec.funds_needed:
            raise InsufficientFunds()
        order = Order.objects.create(
            customer_id=customer.pk,
            service_id=service.pk,
            type=service.type,
            status=spec.status,
            rate=rate,
            charged_quantity=spec.charged_quantity,
            charge=spec.charge,
            remains=spec.charged_quantity,
            **kind.fulfilment(service, spec.fields, timezone.now()),
            **spec.fields,
        )
        if spec.charge > ZERO:
            ledger_post(
                customer=locked,
                kind=EntryKind.CHARGE,
                amount=-spec.charge,
                order_id=order.pk,
                memo=f"Order #{order.pk}",
            )
        OrderEvent.objects.create(order=order, kind="placed", to_status=order.status, actor=actor)
    customer.balance = locked.balance
    return order


def refund_amount(order: Order, status: str, remains: int) -> Decimal:
    """What a move to `status` gives back, by the rule of the order's kind."""
    return kind_of(order).refund(order, status, remains)


def order_transition(
    *,
    order_id: int,
    to: OrderStatus,
    actor: str,
    expected: OrderStatus | None = None,
    remains: int | None = None,
    start_count: int | None = None,
    completed_runs: int | None = None,
    data: Mapping[str, Any] | None = None,
    guard: Q | None = None,
    extra: Mapping[str, Any] | None = None,
    driver: bool = False,
) -> Order:
    """Move an order to `to` and refund what that status implies, exactly once: in a
    transaction of its own, the customer (when `to` can refund) and then the order locked.
    See `order_transition_locked` for the rest."""
    customer_id = Order.objects.values_list("customer_id", flat=True).filter(pk=order_id).first()
    if customer_id is None:
        raise PanelError(ErrorCode.INCORRECT_ORDER)
    with transaction.atomic(durable=True):
        # Only a move that can refund needs the customer's row (locked first, as always);
        # the rest lock just the order, so one busy customer's orders don't queue up behind
        # each other's completions.
        customer = customer_lock(customer_id) if to in REFUND_ALL | REFUND_REMAINS else None
        order = Order.objects.select_for_update().get(pk=order_id)
        return order_transition_locked(
            order=order,
            customer=customer,
            to=to,
            actor=actor,
            expected=expected,
            remains=remains,
            start_count=start_count,
            completed_runs=completed_runs,
            data=data,
            guard=guard,
            extra=extra,
            driver=driver,
        )


def order_transition_locked(
    *,
    order: Order,
    to: OrderStatus,
    actor: str,
    customer: Customer | None = None,
    expected: OrderStatus | None = None,
    remains: int | None = None,
    start_count: int | None = None,
    completed_runs: int | None = None,
    data: Mapping[str, Any] | None = None,
    guard: Q | None = None,
    extra: Mapping[str, Any] | None = None,
    driver: bool = False,
) -> Order:
    """The one writer of an order's status, inside the caller's transaction: `order` was
    read under its row lock, and `customer` too (locked before it) when `to` can refund.

    `guard` adds conditions the row must still meet (e.g. "not being sent upstream");
    `extra` sets more columns in the same update (the worker's bookkeeping). An order whose
    kind drives it (a drip-feed the panel runs: its status follows its runs) is moved only
    by that driver (`driver`); others stop it with a cancel.

    The update is conditional on the status read under the lock, and a refund is a ledger
    entry unique per order and cause: two racing callers cannot both succeed, and a retry
    after a crash cannot refund twice.
    """
    order_id = order.pk
    current = OrderStatus(order.status)
    kind = kind_of(order)
    kind.check_mover(order, driver=driver)
    if expected is not None and current != expected:
        raise ConflictError(f"Order #{order_id} is {current}, not {expected}")
    if not kind.can_transition(current, to):
        raise ConflictError(f"Order #{order_id} cannot go from {current} to {to}")

    changes: dict[str, Any] = {
        "status": to,
        "updated_at": timezone.now(),
        # What remains is fixed by the status, or reported; the kind says which (or, for a
        # subscription, that nothing is counted on it).
        **kind.counters(order, to, remains),
        **_progress_changes(
            order, remains=None, start_count=start_count, completed_runs=completed_runs
        ),
    }
    if to in FINAL_STATUSES:
        changes["finished_at"] = changes["updated_at"]
        changes["next_check_at"] = None  # nothing left for the worker to do

    changes.update(extra or {})
    rows = Order.objects.filter(pk=order_id, status=current)
    won = (rows.filter(guard) if guard is not None else rows).update(**changes)
    if not won:
        raise ConflictError(f"Order #{order_id} changed while it was being updated")
    refund = kind.refund(order, to, changes.get("remains", order.remains))
    if refund > ZERO:
        if customer is None or customer.pk != order.customer_id:
            raise RuntimeError("a refunding transition needs the order's customer locked")
        ledger_post(
            customer=customer,
            kind=EntryKind.REFUND,
            amount=refund,
            order_id=order.pk,
            cause=str(to).lower(),
            memo=f"Order #{order.pk} {to}",
        )
    OrderEvent.objects.create(
        order_id=order.pk,
        kind="status",
        from_status=current,
        to_status=to,
        actor=actor,
        data={**(data or {}), **({"refund": str(refund)} if refund else {})},
    )
    for name, value in changes.items():
        setattr(order, name, value)
    for hook in AFTER_TRANSITION:
        hook(order, current, to, changes["updated_at"])
    return order


def _progress_changes(
    order: Order, *, remains: int | None, start_count: int | None, completed_runs: int | None
) -> dict[str, Any]:
    """The delivery counters given, checked against the order; the ones not given are left."""
    changes: dict[str, Any] = {}
    if remains is not None:
        changes["remains"] = checked_remains(order, remains)
    if start_count is not None:
        if not 0 <= start_count <= MAX_WHOLE:
            raise PanelError("start_count must be zero or more")
        changes["start_count"] = start_count
    if completed_runs is not None:
        if not order.runs or not 0 <= completed_runs <= order.runs:
            raise PanelError(f"completed_runs must be between 0 and {order.runs or 0}")
        changes["completed_runs"] = completed_runs
    return changes


def order_progress(
    *,
    order_id: int,
    actor: str,
    start_count: int | None = None,
    remains: int | None = None,
    completed_runs: int | None = None,
) -> Order:
    """Record delivery progress of a running order; a Pending order becomes In progress."""
    order = Order.objects.select_related("provider").filter(pk=order_id).first()
    if order is None:
        raise PanelError(ErrorCode.INCORRECT_ORDER)
    _refuse_at_provider(order)
    if order.status == S.PENDING:
        return order_transition(
            order_id=order_id,
            to=S.IN_PROGRESS,
            expected=S.PENDING,
            actor=actor,
            start_count=start_count,
            remains=remains,
            completed_runs=completed_runs,
        )
    if order.status not in (S.IN_PROGRESS, S.PROCESSING):
        raise ConflictError(f"Order #{order_id} is {order.status}; progress is for running orders")
    kind_of(order).refuse_by_hand(order, "progress")
    changes: dict[str, Any] = {
        "updated_at": timezone.now(),
        **_progress_changes(
            order, remains=remains, start_count=start_count, completed_runs=completed_runs
        ),
    }
    with transaction.atomic(durable=True):
        if not Order.objects.filter(pk=order_id, status=order.status).update(**changes):
            raise ConflictError(f"Order #{order_id} changed while it was being updated")
        OrderEvent.objects.create(
            order_id=order_id,
            kind="progress",
            from_status=order.status,
            to_status=order.status,
            actor=actor,
            data={k: v for k, v in changes.items() if k != "updated_at"},
        )
    for name, value in changes.items():
        setattr(order, name, value)
    return order


# -- the operator's hand: fulfilment by hand, cancel, settle ---------------------------------

#: Where an order is in a provider's hands, or about to be: its status follows the provider.
AT_PROVIDER = frozenset(
    {ForwardState.QUEUED, ForwardState.SENDING, ForwardState.SENT, ForwardState.HELD}
)
#: What the operator may move an order to by hand (a cancel is `order_cancel`).
BY_HAND = frozenset({S.IN_PROGRESS, S.PROCESSING, S.COMPLETED, S.PARTIAL})
#: What an order may be settled as without telling its provider.
SETTLED = frozenset({S.COMPLETED, S.PARTIAL, S.CANCELED})
SETTLE_HINT = (
    'To record an outcome without telling the provider, use "Settle without telling the '
    'provider" with a reason (console: order-set ID settle-complete|settle-partial|'
    "settle-cancel --reason ...)."
)


def _where_upstream(order: Order) -> str:
    provider = order.provider.name if order.provider is not None else "its provider"
    if order.forward_state == ForwardState.SENT:
        return f"at {provider} as its order {order.provider_order_id}"
    if order.forward_state == ForwardState.HELD:
        return f"held: its send to {provider} may or may not have reached it"
    if order.forward_state == ForwardState.SENDING:
        return f"being sent to {provider}"
    return f"queued for {provider}"


def _refuse_at_provider(order: Order) -> None:
    """What the operator does by hand would go unseen by a provider that goes on delivering
    and charging us: an order at a provider is moved by its answers, a cancel through it, or
    an explicit settlement."""
    if order.forward_state in AT_PROVIDER:
        raise ConflictError(
            f"Order #{order.pk} is {_where_upstream(order)}; its status follows the "
            f"provider, and a cancel goes through it. {SETTLE_HINT}"
        )


def _operator_order(order_id: int) -> Order:
    order = Order.objects.select_related("provider").filter(pk=order_id).first()
    if order is None:
        raise PanelError(ErrorCode.INCORRECT_ORDER)
    return order


def order_fulfil(
    *,
    order_id: int,
    to: OrderStatus,
    actor: str,
    remains: int | None = None,
    start_count: int | None = None,
    completed_runs: int | None = None,
) -> Order:
    """The operator, fulfilling an order by hand, starts, completes or ends it Partial.
    Only an order nobody else fulfils: not one at a provider, nor a subscription."""
    order = _operator_order(order_id)
    kind_of(order).refuse_by_hand(order, "fulfil")
    if to not in BY_HAND:
        raise PanelError(f"{to} is not a step of fulfilment by hand")
    _refuse_at_provider(order)
    return order_transition(
        order_id=order_id,
        to=to,
        actor=actor,
        remains=remains,
        start_count=start_count,
        completed_runs=completed_runs,
        # An order by hand never becomes a provider's; checked again all the same.
        guard=Q(forward_state=order.forward_state),
    )


def order_cancel(*, order_id: int, actor: str) -> Order:
    """The operator cancels. By hand: Canceled now, the whole charge refunded. At a provider:
    the provider's cancel, as for a customer's request, and the order ends as it answers
    (a held one: when the operator settles the send). A drip-feed the panel runs stops its
    runs; a subscription stops."""
    order = _operator_order(order_id)
    if order.status not in ACTIVE_STATUSES:
        raise PanelError(ErrorCode.CANCEL_FINISHED)
    stopped = kind_of(order).stop(
        order_id=order_id, actor=actor, reason="stopped by the operator", customer=False
    )
    if stopped is not None:
        return stopped
    if order.forward_state == ForwardState.MANUAL:
        # The operator is its fulfiller: the cancel is the outcome.
        return order_transition(
            order_id=order_id,
            to=S.CANCELED,
            expected=OrderStatus(order.status),
            actor=actor,
            data={"reason": "canceled by the operator"},
            guard=Q(forward_state=ForwardState.MANUAL),
        )
    if order.cancel_requested_at is not None:
        refused = order.last_error.startswith("cancel refused upstream")
        raise ConflictError(
            f"Order #{order_id}: a cancel is already requested"
            + (f" and the provider refused it ({order.last_error})" if refused else "")
            + f". {SETTLE_HINT}"
        )
    return _cancel(order, actor=actor, reason="canceled by the operator")


def order_settle(
    *,
    order_id: int,
    to: OrderStatus,
    actor: str,
    reason: str,
    remains: int | None = None,
) -> Order:
    """The operator records how an order ended without telling its provider (settled with
    the provider some other way, or the provider is gone): Completed, Partial with what
    remains, or Canceled, refunded accordingly. The reason is required and kept with who
    settled it in the order's history; the worker does not look at the order again."""
    reason = reason.strip()
    if not reason:
        raise PanelError("Settling without telling the provider needs a reason")
    if to not in SETTLED:
        raise PanelError("An order is settled as Completed, Partial or Canceled")
    order = _operator_order(order_id)
    kind_of(order).refuse_by_hand(order, "settle")
    if order.forward_state == ForwardState.SENDING:
        raise ConflictError(
            f"Order #{order_id} is being sent to its provider right now; try again in a moment"
        )
    now = timezone.now()
    guard = Q(forward_state=order.forward_state)
    extra: dict[str, Any] = {}
    if order.forward_state == ForwardState.QUEUED:
        guard &= lease_free(now)  # not while a worker may be about to send it
        extra["forward_state"] = ForwardState.UNSENT
    elif order.forward_state == ForwardState.HELD:
        # Off the operator's list of held sends: it did reach the provider, or it is given up.
        extra["forward_state"] = ForwardState.FAILED if to == S.CANCELED else ForwardState.SENT
        extra["last_error"] = ""
    upstream = {
        key: value
        for key, value in (
            ("provider_order", order.provider_order_id),
            ("provider_status", order.provider_status),
        )
        if value
    }
    return order_transition(
        order_id=order_id,
        to=to,
        expected=OrderStatus(order.status),
        actor=actor,
        remains=remains,
        data={"reason": reason, "without_provider": True, **upstream},
        guard=guard,
        extra=extra,
    )


# -- the customer's requests ------------------------------------------------------------------


def _customer_order(customer: Customer, order_id: int | None) -> Order:
    """The customer's own order with its service; anyone else's is "Incorrect order ID"."""
    order = (
        Order.objects.select_related("service").filter(pk=order_id, customer_id=customer.pk).first()
        if order_id
        else None
    )
    if order is None:
        raise PanelError(ErrorCode.INCORRECT_ORDER)
    return order


def order_cancel_refusal(order: Order) -> ErrorCode | None:
    """Why a customer's cancel of `order` would be refused, or None when it would be taken:
    `order_cancel_request`'s rule, read without writing anything, so that a page offers a
    cancel exactly where the API would take one. Needs `order.service` loaded."""
    if not order.service.cancel:
        return ErrorCode.CANCEL_UNAVAILABLE
    if order.status not in ACTIVE_STATUSES:
        return ErrorCode.CANCEL_FINISHED
    # A subscription stops at once, whatever was asked before; anything else is asked once.
    if not order.is_subscription and order.cancel_requested_at is not None:
        return ErrorCode.CANCEL_REQUESTED
    return None


def order_cancel_request(*, customer: Customer, order_id: int | None, actor: str = "api") -> Order:
    """A customer asks to cancel. An order nobody has started yet is canceled at once, with
    a full refund; otherwise the request is recorded for the fulfiller to confirm."""
    order = _customer_order(customer, order_id)
    refusal = order_cancel_refusal(order)
    if refusal is not None:
        raise PanelError(refusal)
    stopped = kind_of(order).stop(
        order_id=order.pk, actor=actor, reason="canceled by the customer", customer=True
    )
    if stopped is not None:
        return stopped
    return _cancel(order, actor=actor, reason="canceled by the customer")


def _cancel(order: Order, *, actor: str, reason: str) -> Order:
    """Cancel an order not started anywhere at once, with a full refund; otherwise record the
    request: the worker passes it on to the provider (or stops a drip-feed's runs), a held
    order waits for the operator's decision on its send, one by hand for the operator."""
    # Not started anywhere yet (a panel-run drip-feed is Pending until its first run).
    unstarted = (ForwardState.MANUAL, ForwardState.QUEUED, ForwardState.DRIPFEED)
    if order.status in (S.PENDING, S.ACTIVE, S.PAUSED) and order.forward_state in unstarted:
        now = timezone.now()
        try:
            return order_transition(
                order_id=order.pk,
                to=S.CANCELED,
                expected=OrderStatus(order.status),
                actor=actor,
                data={"reason": reason},
                # Never while a worker may be sending it: then it is a request like any other.
                guard=Q(forward_state__in=unstarted) & lease_free(now),
                # A drip-feed not started is canceled here, in place of its runs' driver.
                driver=True,
                extra={
                    "next_check_at": None,
                    **(
                        {"forward_state": ForwardState.UNSENT}
                        if order.forward_state == ForwardState.QUEUED
                        else {}
                    ),
                },
            )
        except ConflictError:
            # The operator moved it first; fall through to a request on the new status.
            order.refresh_from_db()
            if order.status not in ACTIVE_STATUSES:
                raise PanelError(ErrorCode.CANCEL_FINISHED) from None
    with transaction.atomic(durable=True):
        won = Order.objects.filter(
            pk=order.pk, status__in=ACTIVE_STATUSES, cancel_requested_at__isnull=True
        ).update(
            cancel_requested_at=timezone.now(),
            # An order at a provider: the worker passes the request on at its next round;
            # a panel-run drip-feed: the worker stops its runs.
            **(
                {"next_check_at": timezone.now()}
                if order.forward_state in (ForwardState.SENT, ForwardState.DRIPFEED)
                else {}
            ),
        )
        if not won:
            raise PanelError(ErrorCode.CANCEL_REQUESTED)
        OrderEvent.objects.create(
            order_id=order.pk,
            kind="cancel_requested",
            from_status=order.status,
            to_status=order.status,
            actor=actor,
            data={
                "reason": reason,
                # Shown to the operator: honoured when the held send is settled.
                **({"held": True} if order.forward_state == ForwardState.HELD else {}),
            },
        )
    order.refresh_from_db()
    return order


def refill_refusal(order: Order, *, now: datetime, refill_open: bool) -> ErrorCode | None:
    """Why a customer's refill of `order` would be refused at `now`, or None when it would be
    taken: `refill_request`'s rule, read without writing anything, so that a page offers a
    refill exactly where the API would take one. `refill_open`: the order has a refill still
    Pending or In progress. Needs `order.service` loaded."""
    if not order.service.refill or not kind_of(order).refillable:
        return ErrorCode.REFILL_UNAVAILABLE
    if order.status not in REFILLABLE:
        return ErrorCode.REFILL_NOT_COMPLETED
    finished = order.finished_at or order.updated_at
    if now > finished + timedelta(days=order.service.refill_days):
        return ErrorCode.REFILL_PERIOD_OVER
    if refill_open:
        return ErrorCode.REFILL_RUNNING
    return None


def refill_request(*, customer: Customer, order_id: int | None, actor: str = "api") -> Refill:
    """A customer asks to top up what dropped from a delivered order: refill-enabled service,
    Completed or Partial, inside the service's window counted from when the order finished,
    one open refill per order. An order at a provider has its refill passed on by the worker;
    any other waits for the operator."""
    order = _customer_order(customer, order_id)
    kind = kind_of(order)
    try:
        with transaction.atomic(durable=True):
            now = timezone.now()
            refill_open = Refill.objects.filter(
                order_id=order.pk, status__in=ACTIVE_REFILL_STATUSES
            ).exists()
            refusal = refill_refusal(order, now=now, refill_open=refill_open)
            if refusal is not None:
                raise PanelError(refusal)
            upstream = order.provider_order_id is not None
            runs = kind.refill_parts(order)
            refill = Refill.objects.create(
                order_id=order.pk,
                customer_id=customer.pk,
                forward_state=ForwardState.QUEUED
                if upstream
                else ForwardState.DRIPFEED
                if runs
                else ForwardState.MANUAL,
                next_check_at=now if upstream else None,
            )
            OrderEvent.objects.create(
                order_id=order.pk,
                refill=refill,
                kind="refill_requested",
                to_status=refill.status,
                actor=actor,
                data={"runs": runs} if runs else {},
            )
            for run_id in runs:
                part = Refill.objects.create(
                    order_id=run_id,
                    customer_id=customer.pk,
                    parent=refill,
                    forward_state=ForwardState.QUEUED,
                    next_check_at=now,
                )
                OrderEvent.objects.create(
                    order_id=run_id, refill=part, kind="refill_requested",
                    to_status=part.status, actor=actor, data={"part_of": refill.pk},
                )  # fmt: skip
    except IntegrityError:
        # The partial unique index caught a concurrent request for the same order.
        raise PanelError(ErrorCode.REFILL_RUNNING) from None
    return refill


def _refill_follow_parts(parent_id: int, actor: str) -> None:
    """A refill made of parts (one per run) is In progress once any part is under way, and
    ends when they all have: Completed if any part did, else Rejected or Error."""
    parent = Refill.objects.select_for_update().get(pk=parent_id)
    statuses = list(Refill.objects.filter(parent_id=parent_id).values_list("status", flat=True))
    R = RefillStatus
    if any(s in ACTIVE_REFILL_STATUSES for s in statuses):
        new = R.PENDING if all(s == R.PENDING for s in statuses) else R.IN_PROGRESS
    elif R.COMPLETED in statuses:
        new = R.COMPLETED
    else:
        new = R.REJECTED if R.REJECTED in statuses else R.ERROR
    if new == parent.status or not can_transition_refill(parent.status, new):
        return
    Refill.objects.filter(pk=parent_id, status=parent.status).update(
        status=new, updated_at=timezone.now()
    )
    OrderEvent.objects.create(
        order_id=parent.order_id, refill_id=parent_id, kind="refill_status",
        from_status=parent.status, to_status=new, actor=actor, data={"parts": statuses},
    )  # fmt: skip


def refill_transition(*, refill_id: int, to: RefillStatus, actor: str) -> Refill:
    """The fulfiller accepts (In progress), completes, rejects or fails a refill."""
    refill = Refill.objects.filter(pk=refill_id).first()
    if refill is None:
        raise PanelError(ErrorCode.REFILL_NOT_FOUND)
    current = RefillStatus(refill.status)
    if not can_transition_refill(current, to):
        raise ConflictError(f"Refill #{refill_id} cannot go from {current} to {to}")
    with transaction.atomic(durable=True):
        if not Refill.objects.filter(pk=refill_id, status=current).update(
            status=to, updated_at=timezone.now()
        ):
            raise ConflictError(f"Refill #{refill_id} changed while it was being updated")
        OrderEvent.objects.create(
            order_id=refill.order_id,
            refill_id=refill.pk,
            kind="refill_status",
            from_status=current,
            to_status=to,
            actor=actor,
        )
        if refill.parent_id is not None:
            _refill_follow_parts(refill.parent_id, actor)
    refill.status = to
    return refill


# -- what the modules above this one add: hooks -----------------------------------------------

#: Run by `order_transition_locked` after every status change, inside its transaction, as
#: `(order, from, to, now)` with `order` already showing the change. The modules that sit above
#: this one (a drip-feed whose run ended wakes up) register here, so that this module never
#: imports them: the status has one writer, and the imports go one way.
TransitionHook = Callable[[Order, OrderStatus, OrderStatus, datetime], None]
AFTER_TRANSITION: list[TransitionHook] = []


def order_transition_hook(hook: TransitionHook) -> TransitionHook:
    """Register `hook` to run after every status change (once, however often it is called)."""
    if hook not in AFTER_TRANSITION:
        AFTER_TRANSITION.append(hook)
    return hook
