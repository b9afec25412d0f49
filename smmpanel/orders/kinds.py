"""Order kinds: everything that differs between the types of order, in one registry.

Each service `type` (api-v2.md's 14, and any added later) has one `OrderKind` here. It
declares the parameters it takes, how they are checked and charged, the statuses it may
move through, what a move refunds, the extra fields its `status` reply carries, the
parameters that forward it to a provider and how the worker drives it. The services, the
API, forwarding and the worker ask the kind; none of them branches on the type.

Adding a kind is `register(OrderKind(...))` (or a subclass overriding what differs), and
a row in the catalog whose `type` names it: docs/architecture.md walks through one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.money import ZERO, price
from smmpanel.core.parsing import split_lines
from smmpanel.orders.models import Order
from smmpanel.orders.request import EXPIRY_FORMAT, OrderRequest
from smmpanel.orders.states import REFUND_ALL, REFUND_REMAINS, OrderStatus, can_transition
from smmpanel.orders.validation import (
    MAX_LINES,
    MAX_LINK,
    MAX_TEXT,
    MAX_UNITS,
    SUBSCRIPTION_DELAYS,
    clean_expiry,
    clean_link,
    clean_text,
    missing,
    whole,
)

T = ServiceType


class Charge(StrEnum):
    """How the quantity charged up front is counted."""

    QUANTITY = "quantity"  #: the `quantity` asked (times `runs` for a drip-feed)
    LINES = "lines"  #: the non-empty lines of the kind's `counted` list
    PACKAGE = "package"  #: one package, at the rate itself


class Drive(StrEnum):
    """How the worker moves an order of the kind once it is placed."""

    #: Forwarded to its provider (or left to the operator) and polled until final; with
    #: `runs` and a provider that cannot take them, sent run by run (dripfeed.py).
    FORWARD = "forward"
    #: Stays Active; each post it sees is a child order, charged as it comes
    #: (subscriptions.py).
    SUBSCRIPTION = "subscription"


#: Free-text parameters and their column size: the order column has the parameter's name.
TEXT_SIZES: dict[str, int] = {
    "comments": MAX_TEXT,
    "usernames": MAX_TEXT,
    "hashtags": MAX_TEXT,
    "groups": MAX_TEXT,
    "hashtag": 300,
    "username": 300,
    "media": MAX_LINK,
    "answer_number": 50,
}
#: API parameter -> the order column that holds it, where the names differ.
COLUMNS: dict[str, str] = {
    "min": "sub_min",
    "max": "sub_max",
    "delay": "sub_delay",
    "posts": "sub_posts",
    "old_posts": "sub_old_posts",
    "expiry": "sub_expiry",
}


@dataclass(frozen=True)
class ServiceTerms:
    """What a kind needs to know of a service, at the price this customer pays."""

    type: str
    rate: Decimal
    min: int
    max: int
    dripfeed: bool


@dataclass
class OrderSpec:
    """All `order_place` writes for a valid request: columns, quantity, charge, status."""

    fields: dict[str, Any] = field(default_factory=dict)
    charged_quantity: int = 0
    charge: Decimal = ZERO
    status: OrderStatus = OrderStatus.PENDING
    #: Funds the balance must hold to accept the order (a subscription's first post).
    funds_needed: Decimal = ZERO


def _check_range(quantity: int, terms: ServiceTerms) -> None:
    if quantity < terms.min:
        raise PanelError(ErrorCode.QUANTITY_LESS, field="quantity", min=terms.min)
    if quantity > terms.max:
        raise PanelError(ErrorCode.QUANTITY_MORE, field="quantity", max=terms.max)


@dataclass(frozen=True)
class OrderKind:
    """An order type whose charge is counted up front and refunded by what was not done."""

    #: The service type, as `services` lists it and the catalog stores it.
    type: str
    #: Parameters that must be given besides `service`, in the order they are checked.
    required: tuple[str, ...]
    #: Parameters passed on to a provider when the order has them.
    optional: tuple[str, ...] = ()
    charge: Charge = Charge.QUANTITY
    #: The list whose lines are counted (Charge.LINES), or whose lines must not all be
    #: blank (a package of comments).
    counted: str = ""
    #: Takes `runs` and `interval`: one delivery of `quantity` per run.
    dripfeed: bool = False
    drive: Drive = Drive.FORWARD

    # --- placing -----------------------------------------------------------------------

    def spec(self, terms: ServiceTerms, request: OrderRequest) -> OrderSpec:
        """Check `request` for a service of `terms` and price it; reads no database."""
        spec = OrderSpec(fields=self._checked_fields(request))
        self._price(terms, request, spec)
        return spec

    def _checked_fields(self, request: OrderRequest) -> dict[str, Any]:
        for name in self.required:
            # A missing link is a "Bad link", the words clients know.
            if name != "link" and not request.given(name):
                raise missing(name)
        fields: dict[str, Any] = {}
        if "link" in self.required:
            fields["link"] = clean_link(request.link)
        for name, size in TEXT_SIZES.items():
            if name in self.required:
                fields[name] = clean_text(name, getattr(request, name), size=size)
        return fields

    def _price(self, terms: ServiceTerms, request: OrderRequest, spec: OrderSpec) -> None:
        fields = spec.fields
        if self.charge is Charge.LINES:
            lines = split_lines(fields[self.counted])
            if not lines:
                raise missing(self.counted)
            if len(lines) > MAX_LINES:
                raise PanelError(ErrorCode.QUANTITY_MORE, field="quantity", max=terms.max)
            _check_range(len(lines), terms)
            spec.charged_quantity = fields["quantity"] = len(lines)
        elif self.charge is Charge.PACKAGE:
            if self.counted and not split_lines(fields[self.counted]):
                raise missing(self.counted)
            spec.charged_quantity = 1
            spec.charge = terms.rate
        else:
            quantity = whole(request, "quantity")
            _check_range(quantity, terms)
            fields["quantity"] = spec.charged_quantity = quantity
            if self.dripfeed and request.given("runs"):
                if not terms.dripfeed:
                    raise PanelError(ErrorCode.DRIPFEED_UNAVAILABLE, field="runs")
                runs = whole(request, "runs", minimum=2)
                interval = whole(request, "interval", minimum=1)
                if quantity * runs > MAX_UNITS:
                    raise PanelError(ErrorCode.QUANTITY_MORE, field="quantity", max=terms.max)
                fields["runs"], fields["interval"] = runs, interval
                spec.charged_quantity = quantity * runs
        if not spec.charge:
            spec.charge = price(terms.rate, spec.charged_quantity)
        spec.funds_needed = spec.charge

    # --- its life ----------------------------------------------------------------------

    def can_transition(self, current: str, to: str) -> bool:
        return can_transition(current, to)

    def refund(self, order: Order, status: str, remains: int) -> Decimal:
        """What a move to `status` gives back: all of the charge, the undelivered part, or
        nothing."""
        if status in REFUND_ALL:
            return order.charge
        if status in REFUND_REMAINS:
            if self.charge is Charge.PACKAGE:
                # A package is one unit: remains is 0 or 1 of it.
                return order.charge if remains else ZERO
            return min(order.charge, price(order.rate, remains))
        return ZERO

    def status_reply(self, order: Order, reply: dict[str, Any], children: list[int]) -> None:
        """Add to (or take from) the common `status` fields what this kind reports."""
        if order.runs:
            reply["runs"] = str(order.runs)
            reply["completed_runs"] = str(order.completed_runs)

    def upstream_params(self, order: Order) -> dict[str, str]:
        """The `add` parameters (besides key, action and service) that forward `order`."""
        params: dict[str, str] = {}
        for name in (*self.required, *self.optional):
            value = getattr(order, COLUMNS.get(name, name), None)
            if value is None or value == "":
                continue
            params[name] = (
                value.strftime(EXPIRY_FORMAT) if isinstance(value, dt.date) else str(value)
            )
        return params


@dataclass(frozen=True)
class SubscriptionKind(OrderKind):
    """Watches an account and delivers to each new post: Active until it ends, paid and
    refunded post by post as child orders, never as a whole."""

    optional: tuple[str, ...] = ("posts", "old_posts", "expiry")
    drive: Drive = Drive.SUBSCRIPTION

    def _price(self, terms: ServiceTerms, request: OrderRequest, spec: OrderSpec) -> None:
        fields = spec.fields
        low, high = whole(request, "min"), whole(request, "max")
        if low < terms.min:
            raise PanelError(ErrorCode.QUANTITY_LESS, field="min", min=terms.min)
        if high > terms.max:
            raise PanelError(ErrorCode.QUANTITY_MORE, field="max", max=terms.max)
        if low > high:
            raise PanelError(ErrorCode.MIN_ABOVE_MAX, field="min")
        delay = whole(request, "delay")
        if delay not in SUBSCRIPTION_DELAYS:
            allowed = ", ".join(str(d) for d in SUBSCRIPTION_DELAYS)
            raise PanelError(ErrorCode.DELAY_NOT_OFFERED, field="delay", allowed=allowed)
        fields.update(sub_min=low, sub_max=high, sub_delay=delay, link=fields["username"])
        if request.given("posts"):
            fields["sub_posts"] = whole(request, "posts", minimum=1)
        if request.given("old_posts"):
            fields["sub_old_posts"] = whole(request, "old_posts")
        if request.given("expiry"):
            fields["sub_expiry"] = clean_expiry(request)
        spec.status = OrderStatus.ACTIVE
        # Paid per post as posts arrive; it must at least afford the largest first one.
        spec.funds_needed = price(terms.rate, high)

    def can_transition(self, current: str, to: str) -> bool:
        return can_transition(current, to, subscription=True)

    def refund(self, order: Order, status: str, remains: int) -> Decimal:
        return ZERO

    def status_reply(self, order: Order, reply: dict[str, Any], children: list[int]) -> None:
        del reply["start_count"], reply["remains"]
        reply["posts"] = str(order.posts_delivered)
        reply["orders"] = children
        reply["expiry"] = order.sub_expiry.strftime(EXPIRY_FORMAT) if order.sub_expiry else None

    def upstream_params(self, order: Order) -> dict[str, str]:
        params = super().upstream_params(order)
        if order.posts_delivered:
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


#: Every kind by its service type.
KINDS: dict[str, OrderKind] = {}


def register(kind: OrderKind) -> OrderKind:
    """Make `kind` orderable: services of its type are placed, followed and refunded by it."""
    KINDS[kind.type] = kind
    return kind


def kind_for(service_type: str) -> OrderKind:
    return KINDS[service_type]


def kind_of(order: Order) -> OrderKind:
    return KINDS[order.type]


def types_driven(drive: Drive) -> list[str]:
    """The service types the worker drives the `drive` way, for its queries."""
    return sorted(t for t, kind in KINDS.items() if kind.drive is drive)


for _kind in (
    OrderKind(T.DEFAULT, ("link", "quantity"), ("runs", "interval"), dripfeed=True),
    OrderKind(T.PACKAGE, ("link",), charge=Charge.PACKAGE),
    OrderKind(T.CUSTOM_COMMENTS, ("link", "comments"), charge=Charge.LINES, counted="comments"),
    OrderKind(
        T.CUSTOM_COMMENTS_PACKAGE, ("link", "comments"), charge=Charge.PACKAGE, counted="comments"
    ),
    OrderKind(T.MENTIONS_WITH_HASHTAGS, ("link", "quantity", "usernames", "hashtags")),
    OrderKind(
        T.MENTIONS_CUSTOM_LIST, ("link", "usernames"), charge=Charge.LINES, counted="usernames"
    ),
    OrderKind(T.MENTIONS_HASHTAG, ("link", "quantity", "hashtag")),
    OrderKind(T.MENTIONS_USER_FOLLOWERS, ("link", "quantity", "username")),
    OrderKind(T.MENTIONS_MEDIA_LIKERS, ("link", "quantity", "media")),
    OrderKind(T.COMMENT_LIKES, ("link", "quantity", "username")),
    OrderKind(
        T.COMMENT_REPLIES, ("link", "username", "comments"), charge=Charge.LINES, counted="comments"
    ),
    OrderKind(T.POLL, ("link", "quantity", "answer_number")),
    OrderKind(T.INVITES_FROM_GROUPS, ("link", "quantity", "groups")),
    SubscriptionKind(T.SUBSCRIPTIONS, ("username", "min", "max", "delay")),
):
    register(_kind)
