"""Order and refill statuses, and which moves between them are allowed — as data.

`order_transition` is the only writer of a status; it asks `can_transition` first and then
updates `WHERE status = <the status it read>`, so of two writers racing only one can win.
"""

from __future__ import annotations

from django.db import models


class OrderStatus(models.TextChoices):
    """Values are the exact strings of API v2."""

    PENDING = "Pending"
    IN_PROGRESS = "In progress", "In progress"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"
    # Subscriptions only:
    ACTIVE = "Active"
    PAUSED = "Paused"
    EXPIRED = "Expired"


class RefillStatus(models.TextChoices):
    PENDING = "Pending"
    IN_PROGRESS = "In progress", "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"
    ERROR = "Error"


S = OrderStatus
#: Ordinary orders still being delivered.
RUNNING_STATUSES = frozenset({S.PENDING, S.IN_PROGRESS, S.PROCESSING})

#: Ordinary orders: forward while running, never out of a final status.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.IN_PROGRESS, S.PROCESSING, S.COMPLETED, S.PARTIAL, S.CANCELED}),
    S.PROCESSING: frozenset({S.IN_PROGRESS, S.COMPLETED, S.PARTIAL, S.CANCELED}),
    S.IN_PROGRESS: frozenset({S.PROCESSING, S.COMPLETED, S.PARTIAL, S.CANCELED}),
    S.COMPLETED: frozenset(),
    S.PARTIAL: frozenset(),
    S.CANCELED: frozenset(),
}

#: Subscriptions: watched until they end by count, date or request.
SUBSCRIPTION_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.ACTIVE: frozenset({S.PAUSED, S.COMPLETED, S.EXPIRED, S.CANCELED}),
    S.PAUSED: frozenset({S.ACTIVE, S.COMPLETED, S.EXPIRED, S.CANCELED}),
    S.COMPLETED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELED: frozenset(),
}

ACTIVE_STATUSES = frozenset(RUNNING_STATUSES | {S.ACTIVE, S.PAUSED})
#: What may be sent to a provider: a new order, or a subscription that is not paused.
SENDABLE_STATUSES = frozenset({S.PENDING, S.ACTIVE})
FINAL_STATUSES = frozenset({S.COMPLETED, S.PARTIAL, S.CANCELED, S.EXPIRED})

#: Statuses that give money back, and what part: the whole charge or the undelivered rest.
REFUND_ALL = frozenset({S.CANCELED})
REFUND_REMAINS = frozenset({S.PARTIAL})
#: What a refill may be asked for: what was delivered, in full or in part, may drop.
REFILLABLE = frozenset({S.COMPLETED, S.PARTIAL})

REFILL_TRANSITIONS: dict[RefillStatus, frozenset[RefillStatus]] = {
    RefillStatus.PENDING: frozenset(
        {
            RefillStatus.IN_PROGRESS,
            RefillStatus.COMPLETED,
            RefillStatus.REJECTED,
            RefillStatus.ERROR,
        }
    ),
    RefillStatus.IN_PROGRESS: frozenset(
        {RefillStatus.COMPLETED, RefillStatus.REJECTED, RefillStatus.ERROR}
    ),
    RefillStatus.COMPLETED: frozenset(),
    RefillStatus.REJECTED: frozenset(),
    RefillStatus.ERROR: frozenset(),
}
ACTIVE_REFILL_STATUSES = frozenset({RefillStatus.PENDING, RefillStatus.IN_PROGRESS})


def can_transition(current: str, new: str, *, subscription: bool = False) -> bool:
    table = SUBSCRIPTION_TRANSITIONS if subscription else TRANSITIONS
    allowed = table.get(OrderStatus(current)) if current in OrderStatus.values else None
    return allowed is not None and new in allowed


def can_transition_refill(current: str, new: str) -> bool:
    allowed = (
        REFILL_TRANSITIONS.get(RefillStatus(current)) if current in RefillStatus.values else None
    )
    return allowed is not None and new in allowed
