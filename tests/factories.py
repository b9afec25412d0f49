"""Small builders for tests: real rows through the real services."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

from smmpanel.accounts.models import Customer
from smmpanel.accounts.services import customer_create
from smmpanel.catalog.models import Category, Service, ServiceType

_seq = itertools.count(1)


def make_service(
    *,
    type: str = ServiceType.DEFAULT,
    rate: str = "0.90",
    min: int = 10,
    max: int = 10000,
    refill: bool = True,
    cancel: bool = True,
    dripfeed: bool = True,
    enabled: bool = True,
    category: Category | None = None,
    name: str | None = None,
) -> Service:
    if category is None:
        category, _ = Category.objects.get_or_create(name="Test Category")
    return Service.objects.create(
        name=name or f"{type} service {next(_seq)}",
        category=category,
        type=type,
        rate=Decimal(rate),
        min=min,
        max=max,
        refill=refill,
        cancel=cancel,
        dripfeed=dripfeed,
        enabled=enabled,
    )


def make_customer(balance: str = "100", username: str | None = None) -> tuple[Customer, str]:
    return customer_create(username=username or f"customer{next(_seq)}", balance=Decimal(balance))


class Api:
    """Posts to /api/v2 through Django's full request stack and decodes the JSON reply,
    checking the transport rules every reply must keep (HTTP 200, application/json)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, key: str, action: str, **params: Any) -> Any:
        response = self.client.post("/api/v2", {"key": key, "action": action, **params})
        return self.decode(response)

    @staticmethod
    def decode(response: Any) -> Any:
        assert response.status_code == 200, response.content[:500]
        assert response["Content-Type"] == "application/json"
        assert not response.content.startswith(b"\xef\xbb\xbf")
        return json.loads(response.content)
