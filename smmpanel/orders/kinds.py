"""Order kinds: everything that differs between the types of order, in one registry.

Each service `type` (api-v2.md's 14, and any added later) has one `OrderKind` here. It
declares the parameters it takes, how they are checked and charged, the statuses it may
move through, what a move refunds, the extra fields its `status` reply carries, the
parameters that forward it to a provider and how the worker drives it. The services, the
API, forwarding and the worker ask the kind; none of them branches on the type.

This module declares the plain kinds, which are forwarded (or fulfilled by hand) and
polled. Two kinds the panel drives itself are declared beside their driver, which registers
them here when the orders app is ready (so that their stop may call their driver without an
import circle): the drip-feed the panel runs (`dripfeed.DripfeedKind`: an order with `runs`
its provider cannot take, sent run by run) and the subscription
(`subscriptions.SubscriptionKind`). `kind_of(order)` says which kind an order is;
`kind_to_place` which kind a new request becomes.

Adding a kind is `register(OrderKind(...))` (or a subclass overriding what differs), and
a row in the catalog whose `type` names it: docs/architecture.md walks through one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.money import ZERO, price
from smmpanel.core.parsing import split_lines
from smmpanel.orders.models import ForwardState, Order
from smmpanel.orders.request import EXPIRY_FORMAT, OrderRequest
from smmpanel.orders.states import REFUND_ALL, REFUND_REMAINS, OrderStatus, can_transition
from smmpanel.orders.validation import (
    MAX_LINES,
    MAX_LINK,
    MAX_TEXT,
    MAX_UNITS,
    clean_link,
    clean_text,
    missing,
    whole,
)

if TYPE_CHECKING:
    from smmpanel.catalog.models import Service

T = ServiceType
S = OrderStatus


class Charge(StrEnum):
    """How the quantity charged up front is counted."""

    QUANTITY = "quantity"  #: the `quantity` asked (times `runs` for a drip-feed)
    LINES = "lines"  #: the non-empty lines of the kind's `counted` list
    PACKAGE = "package"  #: one package, at the rate itself


class Drive(StrEnum):
    """How the worker moves an order of the kind once it is placed."""

    #: Forwarded to its provider (or left to the operator) and polled until final.
    FORWARD = "forward"
    #: Sent by the panel run by run, each run a child order (dripfeed.py); its status
    #: follows its runs.
    DRIPFEED = "dripfeed"
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
    #: The service's provider takes `runs` itself; otherwise the panel runs a drip-feed.
    provider_runs: bool = False


@dataclass
class OrderSpec:
    """All `order_place` writes for a valid request: columns, quantity, charge, status."""

    fields: dict[str, Any] = field(default_factory=dict)
    charged_quantity: int = 0
    charge: Decimal = ZERO
    status: OrderStatus = OrderStatus.PENDING
    #: Funds the balance must hold to accept the order (a subscription's first post).
    funds_needed: Decimal = ZERO


def checked_remains(order: Order, remains: int) -> int:
    """`remains` as a fulfiller reports it, if it can be: none to all of what was paid for."""
    if not 0 <= remains <= order.charged_quantity:
        raise PanelError(f"remains must be between 0 and {order.charged_quantity}")
    return remains


def expiry_end_of(expiry: dt.date | None) -> dt.datetime | None:
    """When a subscription's last day (`expiry`, UTC) is over."""
    if expiry is None:
        return None
    return dt.datetime.combine(expiry + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def by_provider_or_hand(
    service: Service, now: dt.datetime, *, by_hand_next: dt.datetime | None = None
) -> dict[str, Any]:
    """An order of `service` queued for its provider, or (none) left to the operator, whom
    the worker leaves alone until `by_hand_next`."""
    if service.provider_id is None:
        return {"forward_state": ForwardState.MANUAL, "next_check_at": by_hand_next}
    return {
        "provider_id": service.provider_id,
        "provider_service_id": service.provider_service_id,
        "forward_state": ForwardState.QUEUED,
        "next_check_at": now,
    }


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
    #: Takes `runs` and `interval`: one delivery of `quantity` per run. A provider that takes
    #: runs gets them with the order; otherwise the order is the type's drip-feed the panel
    #: runs (`dripfeed.DripfeedKind`).
    dripfeed: bool = False
    drive: Drive = Drive.FORWARD
    #: A customer may ask for what dropped to be topped up (where the service offers it).
    refillable: bool = True

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

    def fulfilment(
        self, service: Service, fields: Mapping[str, Any], now: dt.datetime
    ) -> dict[str, Any]:
        """Who fulfils a new order of the kind (the columns that say so): its provider, or
        the operator by hand."""
        return by_provider_or_hand(service, now)

    # --- its life ----------------------------------------------------------------------

    def can_transition(self, current: str, to: str) -> bool:
        return can_transition(current, to)

    def check_mover(self, order: Order, *, driver: bool) -> None:
        """Refuse a status change by anyone but the kind's own driver, for a kind whose
        status follows work the panel does itself (`driver`: the caller is that work)."""

    def refuse_by_hand(self, order: Order, step: str) -> None:
        """Refuse what the operator would do by hand (`fulfil`, `progress`, `settle`) to an
        order of this kind that moves some other way."""

    def counters(self, order: Order, to: str, remains: int | None) -> dict[str, Any]:
        """The delivery counters a move to `to` sets: what that status fixes, or else the
        `remains` the fulfiller reports."""
        if to == S.COMPLETED:
            done: dict[str, Any] = {"remains": 0}
            if order.runs:
                done["completed_runs"] = order.runs
            return done
        if to == S.CANCELED:
            return {"remains": order.charged_quantity}
        if to == S.PARTIAL:
            if remains is None:
                raise PanelError("A Partial order needs the quantity that remains undelivered")
            if not 0 < remains <= order.charged_quantity:
                raise PanelError(f"remains must be between 1 and {order.charged_quantity}")
            return {"remains": remains}
        return {} if remains is None else {"remains": checked_remains(order, remains)}

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

    def stop(self, *, order_id: int, actor: str, reason: str, customer: bool) -> Order | None:
        """Stop an order of this kind its own way when it is canceled (by the `customer`, or
        the operator), or None: a plain order is canceled at once if nobody has started it,
        else on request to its fulfiller (orders.services)."""
        return None

    def refill_parts(self, order: Order) -> list[int]:
        """The orders a refill of `order` is passed on as, one part each; none: the refill
        is passed on (or done by hand) as it is."""
        return []

    def status_reply(self, order: Order, reply: dict[str, Any], children: list[int]) -> None:
        """Add to (or take from) the common `status` fields what this kind reports."""
        if order.runs:  # a drip-feed its provider runs
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

    def rows(self) -> Q:
        """Its orders, for the worker's queries."""
        return Q(type=self.type)

    @property
    def is_subscription(self) -> bool:
        return self.drive is Drive.SUBSCRIPTION


#: Every kind a service sells, by its service type.
KINDS: dict[str, OrderKind] = {}
#: The drip-feed the panel runs (Drive.DRIPFEED), by the service type whose kind takes `runs`.
DRIPFEEDS: dict[str, OrderKind] = {}


def register(kind: OrderKind) -> OrderKind:
    """Make `kind` orderable: services of its type are placed, followed and refunded by it.
    A kind driven run by run (Drive.DRIPFEED) is what orders of its type with `runs` become
    when the panel runs them."""
    (DRIPFEEDS if kind.drive is Drive.DRIPFEED else KINDS)[kind.type] = kind
    return kind


def kind_for(service_type: str) -> OrderKind:
    return KINDS[service_type]


def kind_to_place(terms: ServiceTerms, request: OrderRequest) -> OrderKind:
    """The kind a request for a service of `terms` is placed as: the type's, or the drip-feed
    the panel runs when it asks for runs and the service's provider cannot take them."""
    if request.given("runs") and not terms.provider_runs and terms.type in DRIPFEEDS:
        return DRIPFEEDS[terms.type]
    return KINDS[terms.type]


def kind_of(order: Order) -> OrderKind:
    """The kind that runs `order`: a drip-feed the panel runs is one (its forward state says
    so, from its placing on), any other order is its type's."""
    if order.forward_state == ForwardState.DRIPFEED:
        return DRIPFEEDS[order.type]
    return KINDS[order.type]


def orders_driven(drive: Drive) -> Q:
    """The orders the worker drives the `drive` way, for its queries."""
    found = Q(pk__in=[])
    for kind in (*KINDS.values(), *DRIPFEEDS.values()):
        if kind.drive is drive:
            found |= kind.rows()
    return found


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
):
    register(_kind)
