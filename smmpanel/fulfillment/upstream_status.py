"""Reading a provider's order and refill statuses into ours, never backwards and never
guessing."""

from __future__ import annotations

from smmpanel.orders.states import OrderStatus, RefillStatus, can_transition

S = OrderStatus

#: Provider status (lower-cased) -> ours. Anything else is recorded and shown, not applied.
UPSTREAM_STATUS: dict[str, OrderStatus] = {
    "pending": S.PENDING,
    "processing": S.PROCESSING,
    "in progress": S.IN_PROGRESS,
    "inprogress": S.IN_PROGRESS,
    "completed": S.COMPLETED,
    "complete": S.COMPLETED,
    "partial": S.PARTIAL,
    "canceled": S.CANCELED,
    "cancelled": S.CANCELED,
    "refunded": S.CANCELED,
}

#: Provider refill statuses (lower-cased) -> ours.
UPSTREAM_REFILL: dict[str, RefillStatus] = {
    "pending": RefillStatus.PENDING,
    "in progress": RefillStatus.IN_PROGRESS,
    "processing": RefillStatus.IN_PROGRESS,
    "completed": RefillStatus.COMPLETED,
    "rejected": RefillStatus.REJECTED,
    "error": RefillStatus.ERROR,
    "canceled": RefillStatus.REJECTED,
    "cancelled": RefillStatus.REJECTED,
}


def map_status(raw: str) -> OrderStatus | None:
    return UPSTREAM_STATUS.get(raw.strip().lower())


def subscription_end(raw: str) -> OrderStatus | None:
    """The end a provider reports for a subscription (Completed, Expired, Canceled), if any;
    its Active and Paused change nothing here."""
    if raw.strip().lower() == "expired":
        return S.EXPIRED
    status = map_status(raw)
    return status if status in (S.COMPLETED, S.CANCELED) else None


def map_refill_status(raw: object) -> RefillStatus | None:
    return UPSTREAM_REFILL.get(raw.strip().lower()) if isinstance(raw, str) else None


def is_forward(current: str, new: OrderStatus) -> bool:
    """True when a provider's `new` status moves an order on from `current`: progress (or a
    sideways In progress / Processing swap), never a step back, a no-op, or out of an end.
    The moves are `states.TRANSITIONS`: one table of what may follow what."""
    return can_transition(current, new)
