from __future__ import annotations

from collections.abc import Iterable

from smmpanel.accounts.models import Customer
from smmpanel.orders.models import Order


def orders_of(customer: Customer, ids: Iterable[int]) -> dict[int, Order]:
    """The customer's orders among `ids`, by id; others' orders are simply absent. One query."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {o.pk: o for o in Order.objects.filter(customer_id=customer.pk, pk__in=wanted)}


def subscription_children(orders: Iterable[Order]) -> dict[int, list[int]]:
    """For the subscriptions among `orders`: the ids of the orders placed for their posts.
    No query at all when there is no subscription."""
    parents = [o.pk for o in orders if o.is_subscription]
    children: dict[int, list[int]] = {pk: [] for pk in parents}
    if parents:
        for child_id, parent_id in (
            Order.objects.filter(parent_id__in=parents)
            .order_by("id")
            .values_list("id", "parent_id")
        ):
            children[parent_id].append(child_id)
    return children
