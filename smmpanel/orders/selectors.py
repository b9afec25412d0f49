"""Reading orders, and pricing one before it is placed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from smmpanel.accounts.models import Customer
from smmpanel.catalog.models import Service
from smmpanel.catalog.selectors import effective_rate
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.orders.kinds import KINDS, OrderKind, OrderSpec, ServiceTerms, kind_to_place
from smmpanel.orders.models import Order
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.states import OrderStatus

#: How many of a service's last completed orders its average completion time is taken from.
COMPLETION_SAMPLE = 50


@dataclass(frozen=True)
class Quote:
    """A request checked and priced for one customer: what `order_place` would write."""

    service: Service
    #: The price per 1000 this customer pays for the service.
    rate: Decimal
    #: The kind the order is placed as (a drip-feed the panel runs is a kind of its own).
    kind: OrderKind
    spec: OrderSpec


def order_quote(*, customer: Customer, service: Service | None, request: OrderRequest) -> Quote:
    """Check and price `request` for `service` (as `service_for_customer` read it) at this
    customer's rate: `order_place` places what this returns, and a page shows the charge
    from it before anything is placed. Reads no database; raises the kind's `PanelError`."""
    if service is None or service.type not in KINDS:
        raise PanelError(ErrorCode.INCORRECT_SERVICE)
    rate = effective_rate(customer, service)
    terms = ServiceTerms(
        type=service.type,
        rate=rate,
        min=service.min,
        max=service.max,
        dripfeed=service.dripfeed,
        provider_runs=service.provider_id is not None and service.provider_dripfeed,
    )
    kind = kind_to_place(terms, request)
    return Quote(service=service, rate=rate, kind=kind, spec=kind.spec(terms, request))


def average_completion(service_id: int, *, sample: int = COMPLETION_SAMPLE) -> dt.timedelta | None:
    """How long the service's last `sample` completed orders took from placing to
    completion, on average (None before its first). One query.

    A drip-feed is left out: it lasts as long as its runs and interval say, not as long as
    the service takes; its runs, each an order of the service, are counted instead."""
    rows = (
        Order.objects.filter(
            service_id=service_id,
            status=OrderStatus.COMPLETED,
            finished_at__isnull=False,
            runs__isnull=True,
        )
        .order_by("-id")
        .values_list("created_at", "finished_at")[:sample]
    )
    spans = [done - placed for placed, done in rows if done is not None]
    if not spans:
        return None
    return sum(spans, dt.timedelta()) / len(spans)


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
