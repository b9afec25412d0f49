"""Fixtures for the API v2 contract tests: a customer speaking to /api/v2 with their key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.db import connection

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import LedgerEntry
from smmpanel.orders.models import Order
from tests.factories import Api, make_customer

LINK = "https://instagram.com/some.account"


@dataclass
class Caller:
    """One customer and their API key; `caller("status", order="1")` posts to /api/v2."""

    customer: Customer
    key: str
    api: Api

    def __call__(self, action: str, **params: Any) -> Any:
        return self.api(self.key, action, **params)

    def balance(self) -> Decimal:
        return Customer.objects.get(pk=self.customer.pk).balance

    def ledger_count(self) -> int:
        return LedgerEntry.objects.filter(customer_id=self.customer.pk).count()

    def order_count(self) -> int:
        return Order.objects.filter(customer_id=self.customer.pk).count()

    def add(self, service: Any, **params: Any) -> int:
        """Place an order that must succeed; returns its id."""
        reply = self("add", service=str(service.pk), **params)
        assert set(reply) == {"order"}, reply
        assert type(reply["order"]) is int
        return reply["order"]


@pytest.fixture
def http(live_server):
    """A real HTTP client talking to the live server over loopback."""
    with httpx.Client(base_url=live_server.url, follow_redirects=False, timeout=30) as client:
        yield client


@pytest.fixture
def key(transactional_db) -> str:
    """A customer's API key, committed where the live server can see it."""
    return make_customer("100")[1]


def decode(response: httpx.Response, context: object = None) -> Any:
    """A live reply's JSON, after the transport rules every reply keeps: HTTP 200,
    application/json, no byte-order mark."""
    where = f"{response.request.method} {response.request.url.path} {context or ''}"
    assert response.status_code == 200, (where, response.text[:500])
    assert response.headers["content-type"] == "application/json", where
    assert not response.content.startswith(b"\xef\xbb\xbf"), where
    return json.loads(response.content)


@pytest.fixture
def me(db, api: Api) -> Caller:
    customer, key = make_customer("100")
    return Caller(customer, key, api)


@pytest.fixture
def other(db, api: Api) -> Caller:
    customer, key = make_customer("100")
    return Caller(customer, key, api)


def err(message: str) -> dict[str, str]:
    """An error reply: exactly one key, `error`."""
    return {"error": message}


def sci(number: int) -> str:
    """`number` as Go's `%v` prints a float64 of it when large: 23501 -> "2.3501e+04"."""
    digits = str(number)
    tail = digits[1:].rstrip("0")
    mantissa = digits[0] + (f".{tail}" if tail else "")
    return f"{mantissa}e+{len(digits) - 1:02d}"


def next_order_id_will_be(number: int) -> None:
    """Make the next order id `number`, to test ids as big as real panels hand out."""
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, number - 1]
            )
        else:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, number - 1]
            )
