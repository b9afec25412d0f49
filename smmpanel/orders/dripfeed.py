"""Drip-feed the panel runs itself, when the service's fulfiller cannot take runs/interval:
its kind (`DripfeedKind`, registered with orders/kinds.py) and how the worker drives it.

The customer pays for `quantity x runs` up front, on the parent order. Every `interval`
minutes the worker (holding the parent's lease) sends one run: a child order of `quantity`
for the same link and service, fulfilled like any order — by its provider, or by hand.
Children carry no charge of their own; the parent carries the money:

- its `remains` is what its runs have not delivered, its `completed_runs` the runs finished;
- a run that fails (ends Canceled: refused upstream, refunded by the operator, canceled)
  stops the runs still to come;
- a cancel request stops the runs still to come;
- when no more runs will be sent and none is still running, the parent ends — Completed
  when everything arrived, Canceled when nothing did, Partial otherwise — and its refund is
  the undelivered part at the order's rate, through `order_transition`, exactly once.

A child reaching a final status wakes its parent (`dripfeed_wake`, a hook run by
`order_transition` in the child's transaction), so the end is not left waiting for the next
interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.core.money import ZERO
from smmpanel.orders.kinds import COLUMNS, DRIPFEEDS, KINDS, Drive, OrderKind, register
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.services import order_transition, order_transition_hook
from smmpanel.orders.states import (
    ACTIVE_REFILL_STATUSES,
    FINAL_STATUSES,
    REFILLABLE,
    RUNNING_STATUSES,
    OrderStatus,
)

if TYPE_CHECKING:
    from smmpanel.catalog.models import Service

S = OrderStatus
RUNNING = RUNNING_STATUSES
#: While the last runs are out, look again at least this often (a child's end wakes the
#: parent anyway; this only bounds how long a missed wake-up could last).
WAITING_RECHECK = timedelta(hours=1)


@dataclass(frozen=True)
class DripfeedKind(OrderKind):
    """A drip-feed the panel runs itself, for an order with `runs` its provider cannot take
    (or that has no provider): the customer pays `quantity x runs` up front (priced as its
    type prices runs), and every `interval` minutes the worker sends one run, a child order
    of the type's own kind. Its status follows its runs, and it refunds by the type's rule:
    what its runs did not deliver, at the order's rate. `kinds.kind_to_place` makes a new
    order one; `kinds.kind_of` knows it again by its forward state."""

    dripfeed: bool = True
    drive: Drive = Drive.DRIPFEED

    def fulfilment(
        self, service: Service, fields: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        return {"forward_state": ForwardState.DRIPFEED, "next_check_at": now}

    def check_mover(self, order: Order, *, driver: bool) -> None:
        if not driver:
            raise ConflictError(
                f"Order #{order.pk} is a drip-feed the panel sends run by run: its status "
                "follows its runs; stop it with a cancel instead"
            )

    def refuse_by_hand(self, order: Order, step: str) -> None:
        if step == "progress":
            raise ConflictError(f"Order #{order.pk} is a drip-feed: record progress on its runs")

    def stop(self, *, order_id: int, actor: str, reason: str, customer: bool) -> Order | None:
        if customer:
            # The plain cancel: at once before its first run; after it, a request its runs
            # honour (dripfeed_advance stops sending).
            return None
        # Whoever stops it, its event says "drip-feed stopped": the runs are what stops.
        return dripfeed_stop(order_id=order_id, actor=actor)

    def refill_parts(self, order: Order) -> list[int]:
        """Its runs at a provider, delivered in full or in part, with no refill of their own
        open: each is refilled there."""
        return list(
            Order.objects.filter(
                parent_id=order.pk, status__in=REFILLABLE, provider_order_id__isnull=False
            )
            .exclude(refills__status__in=ACTIVE_REFILL_STATUSES)
            .order_by("id")
            .values_list("id", flat=True)
        )

    def status_reply(self, order: Order, reply: dict[str, Any], children: list[int]) -> None:
        reply["runs"] = str(order.runs)
        reply["completed_runs"] = str(order.completed_runs)

    def rows(self) -> Q:
        return Q(type=self.type, forward_state=ForwardState.DRIPFEED)


register(DripfeedKind(ServiceType.DEFAULT, ("link", "quantity"), ("runs", "interval")))


def run_of(parent: Order, now: datetime) -> dict[str, Any]:
    """The columns of one run of `parent`: an order of its type's kind for `quantity`, with
    the parent's parameters, fulfilled like any order of its service, and no charge (the
    parent carries the money)."""
    kind = DRIPFEEDS[parent.type]
    columns = {COLUMNS.get(n, n): getattr(parent, COLUMNS.get(n, n)) for n in kind.required}
    quantity = parent.quantity or 0
    return {
        **columns,
        "customer_id": parent.customer_id,
        "service_id": parent.service_id,
        "type": parent.type,
        "parent_id": parent.pk,
        "rate": parent.rate,
        "charged_quantity": quantity,
        "charge": ZERO,  # paid for on the parent
        "remains": quantity,
        **KINDS[parent.type].fulfilment(parent.service, columns, now),
    }


@dataclass(frozen=True)
class Runs:
    """Where a panel-run drip-feed stands, from its child orders."""

    sent: int
    running: int
    finished: int  # Completed or Partial
    failed: bool  # some run ended Canceled
    delivered: int
    last_sent_at: datetime | None
    #: The first run's count before delivery: the drip-feed's own start count.
    start_count: int | None


def runs_of(parent: Order) -> Runs:
    rows = list(
        Order.objects.filter(parent_id=parent.pk)
        .order_by("id")
        .values_list("status", "charged_quantity", "remains", "created_at", "start_count")
    )
    return Runs(
        sent=len(rows),
        running=sum(1 for status, *_ in rows if status in RUNNING),
        finished=sum(1 for status, *_ in rows if status in (S.COMPLETED, S.PARTIAL)),
        failed=any(status == S.CANCELED for status, *_ in rows),
        delivered=sum(charged - remains for _, charged, remains, *_ in rows),
        last_sent_at=rows[-1][3] if rows else None,
        start_count=rows[0][4] if rows else None,
    )


def dripfeed_advance(*, order_id: int, owner: str, now: datetime | None = None) -> Order:
    """One step of a drip-feed whose lease `owner` holds: send the run that is due, or end
    it, or note its progress; then set when to look again and give the lease back."""
    now = now or timezone.now()
    parent = Order.objects.get(pk=order_id)
    if (
        parent.forward_state != ForwardState.DRIPFEED
        or parent.lease_owner != owner
        or parent.status not in RUNNING
    ):
        return parent
    runs_total = parent.runs or 0
    interval = timedelta(minutes=parent.interval or 1)
    state = runs_of(parent)
    stopping = parent.cancel_requested_at is not None or state.failed
    release = {"lease_until": None, "lease_owner": ""}

    if stopping or state.sent >= runs_total:
        if state.running:
            recheck = now + min(interval, WAITING_RECHECK)
            return _progress(parent, state, owner=owner, next_at=recheck)
        remains = parent.charged_quantity - state.delivered
        to = S.COMPLETED if remains == 0 else S.CANCELED if state.delivered == 0 else S.PARTIAL
        reason = (
            "all runs delivered"
            if to == S.COMPLETED
            else "canceled by request"
            if parent.cancel_requested_at is not None
            else f"a run failed after {state.finished} of {runs_total} runs"
        )
        return order_transition(
            order_id=parent.pk,
            to=to,
            expected=OrderStatus(parent.status),
            actor=f"worker:{owner}",
            remains=remains if to == S.PARTIAL else None,
            completed_runs=None if to == S.COMPLETED else state.finished,
            start_count=state.start_count,
            guard=Q(lease_owner=owner, forward_state=ForwardState.DRIPFEED),
            extra=release,
            data={"reason": reason, "runs_sent": state.sent},
            driver=True,
        )

    due = state.last_sent_at + interval if state.last_sent_at else parent.created_at
    if now < due:
        return _progress(parent, state, owner=owner, next_at=due)
    if parent.status == S.PENDING:
        parent = order_transition(
            order_id=parent.pk,
            to=S.IN_PROGRESS,
            expected=S.PENDING,
            actor=f"worker:{owner}",
            guard=Q(lease_owner=owner, forward_state=ForwardState.DRIPFEED),
            data={"reason": "first run sent"},
            driver=True,
        )
    _send_run(parent, run=state.sent + 1, owner=owner, now=now)
    # The new run has delivered nothing and has no start count yet: the progress read
    # before it was sent is still the progress.
    return _progress(parent, state, owner=owner, next_at=now + interval)


def _send_run(parent: Order, *, run: int, owner: str, now: datetime) -> Order:
    """The child order of one run, created while the parent is locked and still ours with
    exactly `run - 1` runs out, so a run can never be sent twice."""
    with transaction.atomic(durable=True):
        locked = Order.objects.select_for_update().select_related("service").get(pk=parent.pk)
        if (
            locked.lease_owner != owner
            or locked.status not in RUNNING
            or locked.cancel_requested_at is not None
            or Order.objects.filter(parent_id=parent.pk).count() != run - 1
        ):
            raise ConflictError(f"Drip-feed #{parent.pk} changed while its run was being sent")
        child = Order.objects.create(**run_of(locked, now))
        actor = f"worker:{owner}"
        data = {"run": run, "of": locked.runs, "parent": locked.pk}
        OrderEvent.objects.create(
            order=child, kind="placed", to_status=child.status, actor=actor, data=data
        )
        OrderEvent.objects.create(
            order_id=locked.pk, kind="run_sent", from_status=locked.status,
            to_status=locked.status, actor=actor, data={"run": run, "child": child.pk},
        )  # fmt: skip
    return child


def _progress(parent: Order, state: Runs, *, owner: str, next_at: datetime) -> Order:
    """Record the runs' progress on the parent, set its next look and give the lease back.
    A child that ended meanwhile has set next_check_at to wake us: that wins over `next_at`."""
    progress: dict[str, Any] = {
        "remains": parent.charged_quantity - state.delivered,
        "completed_runs": state.finished,
    }
    if state.start_count is not None:
        progress["start_count"] = state.start_count
    Order.objects.filter(pk=parent.pk, lease_owner=owner, status=parent.status).update(
        next_check_at=Case(
            When(next_check_at=parent.next_check_at, then=Value(next_at)),
            default=F("next_check_at"),
        ),
        lease_until=None,
        lease_owner="",
        updated_at=timezone.now(),
        **progress,
    )
    for name, value in progress.items():
        setattr(parent, name, value)
    return parent


@order_transition_hook
def dripfeed_wake(order: Order, was: OrderStatus, to: OrderStatus, now: datetime) -> None:
    """A run ended: its parent decides at once whether to end too (run inside the child's
    status transaction)."""
    if to in FINAL_STATUSES and order.parent_id is not None:
        Order.objects.filter(pk=order.parent_id, forward_state=ForwardState.DRIPFEED).update(
            next_check_at=now
        )


def dripfeed_stop(*, order_id: int, actor: str) -> Order:
    """Stop a panel-run drip-feed: no more runs; the runs out finish, and the parent then
    ends and refunds what was not delivered. The operator's stop; customers ask by `cancel`."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.forward_state != ForwardState.DRIPFEED:
        raise PanelError(f"Order #{order_id} is not a drip-feed the panel runs")
    now = timezone.now()
    with transaction.atomic(durable=True):
        if not Order.objects.filter(
            pk=order_id, status__in=RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=now, next_check_at=now):
            raise ConflictError(f"Order #{order_id} has ended or is already stopping")
        OrderEvent.objects.create(
            order_id=order_id, kind="cancel_requested", from_status=order.status,
            to_status=order.status, actor=actor, data={"reason": "drip-feed stopped"},
        )  # fmt: skip
    order.refresh_from_db()
    return order
