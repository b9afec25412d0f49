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
    if order.is_subscription and order.posts_delivered:
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
