"""The seven actions of API v2. Each takes the customer and the parameters and returns the
exact JSON shape of api-v2.md; domain refusals are raised as PanelError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smmpanel.accounts.models import Customer
from smmpanel.api_v2.params import Params
from smmpanel.catalog.selectors import effective_rate, services_for_customer
from smmpanel.core.errors import TEXTS, ErrorCode, PanelError
from smmpanel.core.money import format_money, format_rate
from smmpanel.core.parsing import parse_id, split_list
from smmpanel.orders import selectors as order_selectors
from smmpanel.orders import services as order_services
from smmpanel.orders.kinds import kind_of
from smmpanel.orders.models import Order, Refill
from smmpanel.orders.request import OrderRequest

#: The most ids one multi request may carry.
MAX_IDS = 100


def _ids(params: Params, name: str) -> list[tuple[str, int | None]]:
    """(token as sent, id or None) for a comma list; refuses more than MAX_IDS."""
    tokens = split_list(params.get(name, ""))
    if not tokens:
        raise PanelError(ErrorCode.MISSING_PARAMETER, field=name)
    if len(tokens) > MAX_IDS:
        raise PanelError(ErrorCode.TOO_MANY_IDS, field=name, limit=MAX_IDS)
    return [(token, parse_id(token)) for token in tokens]


def _echo(token: str, number: int | None) -> int | str:
    """An id as a multi reply repeats it: a number when it is one, else the token as sent."""
    return number if number is not None else token


def _error(exc: PanelError) -> dict[str, str]:
    return {"error": exc.message}


def services(customer: Customer, params: Params) -> list[dict[str, Any]]:
    return [
        {
            "service": s.pk,
            "name": s.name,
            "type": s.type,
            "category": s.category.name,
            "rate": format_rate(effective_rate(customer, s)),
            "min": str(s.min),
            "max": str(s.max),
            "refill": s.refill,
            "cancel": s.cancel,
            "dripfeed": s.dripfeed,
        }
        for s in services_for_customer(customer)
    ]


def add(customer: Customer, params: Params) -> dict[str, int]:
    order = order_services.order_place(
        customer=customer,
        service_id=parse_id(params.get("service", "")),
        params=OrderRequest.from_text(params),
    )
    return {"order": order.pk}


def _status_of(order: Order, customer: Customer, children: dict[int, list[int]]) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "charge": format_money(order.charge),
        "start_count": str(order.start_count or 0),
        "status": order.status,
        "remains": str(order.remains),
        "currency": customer.currency,
    }
    kind_of(order).status_reply(order, reply, children.get(order.pk, []))
    return reply


def status(customer: Customer, params: Params) -> dict[str, Any]:
    if params.get("orders", "").strip():
        pairs = _ids(params, "orders")
        found = order_selectors.orders_of(customer, [n for _, n in pairs if n is not None])
        children = order_selectors.subscription_children(found.values())
        incorrect = {"error": TEXTS[ErrorCode.INCORRECT_ORDER]}
        return {
            token: _status_of(found[n], customer, children)
            if n is not None and n in found
            else incorrect
            for token, n in pairs
        }
    order_id = parse_id(params.get("order", ""))
    found = order_selectors.orders_of(customer, [order_id] if order_id else [])
    if order_id is None or order_id not in found:
        raise PanelError(ErrorCode.INCORRECT_ORDER)
    order = found[order_id]
    return _status_of(order, customer, order_selectors.subscription_children([order]))


def _each(
    params: Params, name: str, key: str, value: str, act: Callable[[int | None], Any]
) -> list[dict[str, Any]]:
    """Run `act` for every id in a multi request; a failure stays in its own item."""
    items: list[dict[str, Any]] = []
    for token, number in _ids(params, name):
        try:
            result = act(number)
        except PanelError as exc:
            result = _error(exc)
        items.append({key: _echo(token, number), value: result})
    return items


def _refill_one(customer: Customer, order_id: int | None) -> int:
    return order_services.refill_request(customer=customer, order_id=order_id).pk


def refill(customer: Customer, params: Params) -> Any:
    if params.get("orders", "").strip():
        return _each(params, "orders", "order", "refill", lambda n: _refill_one(customer, n))
    refill_id = _refill_one(customer, parse_id(params.get("order", "")))
    return {"refill": str(refill_id)}


def _refill_statuses(customer: Customer, ids: list[int | None]) -> dict[int, str]:
    """Status by id of this customer's refills among `ids`: one query for any number."""
    wanted = {n for n in ids if n is not None}
    if not wanted:
        return {}
    rows = Refill.objects.filter(pk__in=wanted, customer_id=customer.pk)
    return dict(rows.values_list("id", "status"))


def _known(statuses: dict[int, str], refill_id: int | None) -> str:
    if refill_id is None or refill_id not in statuses:
        raise PanelError(ErrorCode.REFILL_NOT_FOUND)
    return statuses[refill_id]


def refill_status(customer: Customer, params: Params) -> Any:
    if params.get("refills", "").strip():
        ids = [n for _, n in _ids(params, "refills")]
        statuses = _refill_statuses(customer, ids)
        return _each(params, "refills", "refill", "status", lambda n: _known(statuses, n))
    refill_id = parse_id(params.get("refill", ""))
    return {"status": _known(_refill_statuses(customer, [refill_id]), refill_id)}


def _cancel_one(customer: Customer, order_id: int | None) -> int:
    order_services.order_cancel_request(customer=customer, order_id=order_id)
    return 1


def cancel(customer: Customer, params: Params) -> list[dict[str, Any]]:
    name = "orders" if params.get("orders", "").strip() else "order"
    if not params.get(name, "").strip():
        raise PanelError(ErrorCode.MISSING_PARAMETER, field="orders")
    return _each(params, name, "order", "cancel", lambda n: _cancel_one(customer, n))


def balance(customer: Customer, params: Params) -> dict[str, str]:
    return {"balance": format_money(customer.balance), "currency": customer.currency}
