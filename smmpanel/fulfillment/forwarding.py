"""What an order looks like when we place it with a provider: api-v2.md's `add` in reverse."""

from __future__ import annotations

from smmpanel.orders.models import Order
from smmpanel.orders.validation import REQUIRED

#: API parameter -> the order column that holds it, where the names differ.
_COLUMN = {
    "min": "sub_min",
    "max": "sub_max",
    "delay": "sub_delay",
    "posts": "sub_posts",
    "old_posts": "sub_old_posts",
    "expiry": "sub_expiry",
}
_OPTIONAL = ("runs", "interval", "posts", "old_posts", "expiry")


def upstream_params(order: Order) -> dict[str, str]:
    """The `add` parameters (besides key, action and service) that forward `order`."""
    params: dict[str, str] = {}
    for name in (*REQUIRED[order.type], *_OPTIONAL):
        value = getattr(order, _COLUMN.get(name, name), None)
        if value is None or value == "":
            continue
        if name == "expiry":
            params[name] = value.strftime("%d/%m/%Y")
        else:
            params[name] = str(value)
    return params
