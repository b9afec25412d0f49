"""Concurrent `add` requests over real HTTP never spend more than the balance holds.

The open-source panels read the balance, check it and write a new one with no lock: two
requests both pass. Here 50 requests race for funds that pay for exactly 20 of them.
"""

from __future__ import annotations

from decimal import Decimal

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.billing.services import ledger_verify
from smmpanel.core.errors import NOT_ENOUGH_FUNDS
from smmpanel.orders.models import Order
from tests.concurrency.race import post_all
from tests.conftest import postgres_only
from tests.factories import make_customer, make_service

REQUESTS = 50
AFFORDABLE = 20


@postgres_only
def test_50_concurrent_adds_with_funds_for_20(live_server):
    service = make_service(rate="0.90")
    # 1000 units at 0.90 per 1000 cost 0.90000; the balance pays for exactly 20 orders.
    customer, key = make_customer(str(Decimal("0.90") * AFFORDABLE))
    bodies = [
        {
            "key": key,
            "action": "add",
            "service": str(service.pk),
            "link": f"https://instagram.com/p/race{i}",  # distinct: no active-link refusal
            "quantity": "1000",
        }
        for i in range(REQUESTS)
    ]

    replies = post_all(f"{live_server.url}/api/v2", bodies)

    placed = [r["order"] for r in replies if set(r) == {"order"}]
    refused = [r for r in replies if r == {"error": NOT_ENOUGH_FUNDS}]
    assert len(placed) == AFFORDABLE, replies
    assert len(refused) == REQUESTS - AFFORDABLE, replies
    assert all(type(pk) is int for pk in placed)
    assert sorted(placed) == sorted(
        Order.objects.filter(customer=customer).values_list("pk", flat=True)
    )
    assert Customer.objects.get(pk=customer.pk).balance == Decimal("0")
    charges = LedgerEntry.objects.filter(customer=customer, kind=EntryKind.CHARGE)
    assert sorted(charges.values_list("order_id", flat=True)) == sorted(placed)
    assert all(amount == Decimal("-0.9") for amount in charges.values_list("amount", flat=True))
    assert ledger_verify() == []
