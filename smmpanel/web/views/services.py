"""The price list: every service on sale, by category, at the visitor's own price.

A logged-in customer sees their price (custom rate, else the discounted rate:
catalog.selectors.effective_rate, the one the API's `services` and order_place use);
anyone else sees the listed rate. Two queries, whatever the size of the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from smmpanel.catalog.models import Service
from smmpanel.catalog.selectors import (
    categories_listed,
    effective_rate,
    services_for_customer,
    services_matching,
    services_public,
)
from smmpanel.core.parsing import parse_id
from smmpanel.orders.kinds import KINDS, Charge
from smmpanel.web.middleware import request_customer

#: The longest search text read (a search box, not a document).
MAX_SEARCH = 100


@dataclass(frozen=True)
class PriceRow:
    service: Service
    rate: Decimal
    #: The rate is the price of one package, not of 1000 units.
    per_package: bool


def _order_url() -> str | None:
    """The new-order page, when the panel has one (it links each service to it)."""
    try:
        return reverse("web:order_new")
    except NoReverseMatch:
        return None


def services(request: HttpRequest) -> HttpResponse:
    customer = request_customer(request)
    text = request.GET.get("q", "")[:MAX_SEARCH].strip()
    category_id = parse_id(request.GET.get("category", ""))
    listed = services_for_customer(customer) if customer is not None else services_public()
    rows = [
        PriceRow(
            service=s,
            rate=effective_rate(customer, s) if customer is not None else s.rate,
            per_package=s.type in KINDS and KINDS[s.type].charge is Charge.PACKAGE,
        )
        for s in services_matching(listed, text=text, category_id=category_id)
    ]
    return render(
        request,
        "web/services.html",
        {
            "rows": rows,
            "categories": list(categories_listed()),
            "q": text,
            "category_id": category_id,
            "currency": customer.currency if customer is not None else settings.PANEL_CURRENCY,
            "order_url": _order_url() if customer is not None else None,
        },
    )
