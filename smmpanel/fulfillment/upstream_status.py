"""Reading a provider's order status into ours, never backwards and never guessing."""

from __future__ import annotations

from smmpanel.orders.states import OrderStatus

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

#: How far along a status is; a provider's reply may move an order forward, never back.
_RANK = {
    S.PENDING: 0,
    S.PROCESSING: 1,
    S.IN_PROGRESS: 1,
    S.COMPLETED: 2,
    S.PARTIAL: 2,
    S.CANCELED: 2,
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


def is_forward(current: str, new: OrderStatus) -> bool:
    """True when moving from `current` to `new` is progress (or a sideways In progress /
    Processing swap), False for a step back or a no-op."""
    if current == new or current not in _RANK:
        return False
    return _RANK[new] >= _RANK[OrderStatus(current)]
