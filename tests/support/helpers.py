"""Builders for the support tests: orders placed through the real service."""

from __future__ import annotations

from smmpanel.accounts.models import Customer
from smmpanel.orders.models import Order
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place
from tests.factories import make_service


def place_order(customer: Customer, link: str = "https://example.com/p/1") -> Order:
    service = make_service()
    return order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest.from_text({"link": link, "quantity": "100"}),
    )
