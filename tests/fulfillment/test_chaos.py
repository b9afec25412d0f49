"""Chaos: every fault at once, on every action. Afterwards no order is lost, none was sent
upstream twice, every refund is exact and every balance equals its ledger."""

from __future__ import annotations

import contextlib
import random
import time

import pytest

from smmpanel.billing.models import LedgerEntry
from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import PanelError
from smmpanel.core.money import ZERO, price
from smmpanel.fulfillment.services import held_attach, held_resend
from smmpanel.orders.models import ForwardState, Order
from smmpanel.orders.services import order_cancel_request
from smmpanel.orders.states import ACTIVE_STATUSES
from tests.factories import make_customer
from tests.fulfillment.conftest import all_final, drive, place, service_of

pytestmark = pytest.mark.django_db

TYPES = [
    ServiceType.DEFAULT,
    ServiceType.PACKAGE,
    ServiceType.CUSTOM_COMMENTS,
    ServiceType.MENTIONS_HASHTAG,
    ServiceType.COMMENT_LIKES,
    ServiceType.POLL,
]


def test_chaos_run_loses_nothing_and_sends_nothing_twice(sim, provider, worker):
    rng = random.Random(42)
    sim.configure(partial_rate=0.3, hang_seconds=0.6, start_delay=0.2, speed=2000)
    sim.set_faults(timeout=0.06, drop=0.06, error5xx=0.06, html=0.06, malformed=0.06, error=0.06)
    customers = [make_customer("500")[0] for _ in range(3)]
    orders = [
        place(rng.choice(customers), service_of(provider, rng.choice(TYPES))) for _ in range(60)
    ]

    # Work under fire for a while; ask to cancel some orders on the way.
    to_cancel = set(rng.sample([o.pk for o in orders], 12))
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        worker.run_once()
        for order in Order.objects.filter(pk__in=to_cancel, cancel_requested_at__isnull=True):
            if order.status in ACTIVE_STATUSES:
                # A request may race the order's end and be refused; that is fine here.
                with contextlib.suppress(PanelError):
                    order_cancel_request(customer=order.customer, order_id=order.pk)
        if all_final(*orders)():
            break

    # The storm passes. The operator settles every held order by looking at the provider.
    sim.set_faults()
    drive(
        worker, lambda: not Order.objects.filter(forward_state__in=["queued", "sending"]).exists()
    )
    for order in Order.objects.filter(forward_state=ForwardState.HELD):
        upstream = [
            int(k)
            for k, v in sim.stats()["orders"].items()
            if v["link"] == order.link and v["from_add"]
        ]
        if upstream:
            held_attach(order_id=order.pk, provider_order_id=upstream[0], actor="operator")
        else:
            held_resend(order_id=order.pk, actor="operator")
    drive(worker, all_final(*orders), seconds=60)

    stats = sim.stats()
    assert sum(stats["faults"].values()) > 20, "the chaos did not happen"
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        created = stats["created_by_link"].get(order.link, 0)
        assert created <= 1, f"order {order.pk} was created upstream {created} times"
        refunds = list(
            LedgerEntry.objects.filter(order=order, kind="refund").values_list("amount", flat=True)
        )
        if order.provider_order_id is None:
            # Never reached the provider: refused or canceled before sending, refunded in full.
            assert created == 0 and order.status == "Canceled" and refunds == [order.charge]
            continue
        upstream = stats["orders"][str(order.provider_order_id)]
        assert upstream["link"] == order.link
        assert order.status == upstream["status"], (order.pk, order.status, upstream["status"])
        if order.status == "Completed":
            assert refunds == []
        elif order.status == "Canceled":
            assert refunds == [order.charge]
        else:
            assert order.status == "Partial"
            assert order.remains == upstream["remains"]
            expected = order.charge if order.type == "Package" else price(order.rate, order.remains)
            assert refunds == ([expected] if expected > ZERO else [])
