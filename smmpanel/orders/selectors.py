"""Reading orders, and pricing one before it is placed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from django.db import models
from django.db.models import Q, QuerySet

from smmpanel.accounts.models import Customer
from smmpanel.catalog.models import Service
from smmpanel.catalog.selectors import effective_rate
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.orders.kinds import (
    KINDS,
    Drive,
    OrderKind,
    OrderSpec,
    ServiceTerms,
    kind_to_place,
    orders_driven,
)
from smmpanel.orders.models import Order, Refill
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.states import ACTIVE_REFILL_STATUSES, OrderStatus

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


# -- the customer's pages ---------------------------------------------------------------------

#: Rows on one page of a customer's list.
PAGE_SIZE = 50
#: A subscription's posts (or a drip-feed's runs) shown on its order's page, newest first.
CHILDREN_SHOWN = 100
#: The largest id a search looks for (BigAutoField); longer digit strings are links' text.
_MAX_ID = 2**63 - 1

_Row = TypeVar("_Row", bound=models.Model)


@dataclass(frozen=True)
class Page(Generic[_Row]):
    """One page of a list, newest first, and the ids to page on from it: `older` for
    `?before=<id>`, `newer` for `?after=<id>`; None where there is nothing more that way."""

    rows: list[_Row]
    older: int | None
    newer: int | None


def keyset_page(
    rows: QuerySet[_Row], *, before: int | None = None, after: int | None = None, size: int
) -> Page[_Row]:
    """A page of `rows` by id, newest first: the newest `size`, the `size` just older than
    `before`, or the `size` just newer than `after`. Keyset, never OFFSET: a page deep in a
    long list costs what the first one does (an index on the filter's columns and id), and
    rows placed meanwhile never shift a page onto rows already seen. Two or three queries
    whatever the page: the rows (one more than shown, to know whether more follow) and
    whether any lie the other way."""
    if after is not None:
        newer = list(rows.filter(pk__gt=after).order_by("id")[: size + 1])
        if len(newer) > size:
            shown = newer[:size][::-1]
            older = rows.filter(pk__lt=shown[-1].pk).exists()
            return Page(shown, older=shown[-1].pk if older else None, newer=shown[0].pk)
        before = None  # fewer than a page is newer: that is the newest page
    query = rows.order_by("-id")
    if before is not None:
        query = query.filter(pk__lt=before)
    found = list(query[: size + 1])
    shown = found[:size]
    newer_exists = before is not None and bool(shown) and rows.filter(pk__gt=shown[0].pk).exists()
    return Page(
        shown,
        older=shown[-1].pk if len(found) > size else None,
        newer=shown[0].pk if newer_exists else None,
    )


def customer_orders(customer: Customer, *, status: str = "", search: str = "") -> QuerySet[Order]:
    """The orders a customer placed, with their services, for the orders page: of one status
    (as API v2 `status` reports it) or all; `search` matches an order id (any of theirs,
    a drip-feed's run or a subscription's post too) or a part of the link. The runs and
    posts of an order are listed on its own page, not here."""
    rows = Order.objects.filter(customer_id=customer.pk).select_related("service")
    search = search.strip()
    if search:
        match = Q(parent__isnull=True, link__icontains=search)
        digits = search.removeprefix("#")
        if digits.isdecimal() and digits.isascii() and 0 < int(digits) <= _MAX_ID:
            match |= Q(pk=int(digits))
        rows = rows.filter(match)
    else:
        rows = rows.filter(parent__isnull=True)
    if status:
        rows = rows.filter(status=status)
    return rows


def customer_dripfeeds(customer: Customer) -> QuerySet[Order]:
    """A customer's drip-feed orders (placed with runs and an interval), with services."""
    return Order.objects.filter(customer_id=customer.pk, runs__isnull=False).select_related(
        "service"
    )


def customer_subscriptions(customer: Customer) -> QuerySet[Order]:
    """A customer's subscriptions, with their services."""
    # The kinds say which orders are subscriptions (today: the one type the index names).
    return Order.objects.filter(
        orders_driven(Drive.SUBSCRIPTION), customer_id=customer.pk
    ).select_related("service")


def customer_refills(customer: Customer) -> QuerySet[Refill]:
    """A customer's refills with their orders (a drip-feed's refill, not its runs' parts)."""
    return Refill.objects.filter(customer_id=customer.pk, parent__isnull=True).select_related(
        "order"
    )


def refilling(order_ids: Iterable[int]) -> set[int]:
    """Those of `order_ids` with a refill still Pending or In progress. One query."""
    wanted = set(order_ids)
    if not wanted:
        return set()
    return set(
        Refill.objects.filter(order_id__in=wanted, status__in=ACTIVE_REFILL_STATUSES).values_list(
            "order_id", flat=True
        )
    )


def customer_order(customer: Customer, order_id: int) -> Order | None:
    """One of the customer's orders with its service; anyone else's is None."""
    return (
        Order.objects.select_related("service").filter(pk=order_id, customer_id=customer.pk).first()
    )


def order_refills(order: Order) -> list[Refill]:
    """An order's refills, newest first (a drip-feed's, not its runs' parts)."""
    return list(Refill.objects.filter(order_id=order.pk, parent__isnull=True).order_by("-id"))


def order_children(order: Order) -> tuple[list[Order], int]:
    """A drip-feed's runs or a subscription's posts, newest first: the last CHILDREN_SHOWN
    of them, and how many there are. Two queries."""
    children = Order.objects.filter(parent_id=order.pk)
    shown = list(children.order_by("-id")[:CHILDREN_SHOWN])
    total = len(shown) if len(shown) < CHILDREN_SHOWN else children.count()
    return shown, total
