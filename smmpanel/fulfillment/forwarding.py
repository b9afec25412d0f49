"""What an order looks like when we place it with a provider: api-v2.md's `add` in reverse."""

from __future__ import annotations

from smmpanel.orders.kinds import kind_of
from smmpanel.orders.models import Order


def upstream_params(order: Order) -> dict[str, str]:
    """The `add` parameters (besides key, action and service) that forward `order`."""
    return kind_of(order).upstream_params(order)
