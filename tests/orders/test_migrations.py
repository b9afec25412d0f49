"""Migrations that change what the data may hold, run over data that breaks the new rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from smmpanel.billing.services import ledger_verify
from smmpanel.catalog.models import Service
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place, order_transition
from smmpanel.orders.states import OrderStatus
from smmpanel.providers.services import provider_create
from tests.factories import make_customer, make_service

BEFORE = [("orders", "0004_refill_parent")]


def _migrate(target: list[tuple[str, str]] | None) -> None:
    """Migrate to `target`, or with None to every app's latest: going back to BEFORE also
    unapplies the other apps' migrations that depend on a later orders migration (tickets,
    say), and the tests after this one need their tables back."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target if target is not None else executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_orders_sharing_a_provider_order_are_detached_before_the_constraint():
    _migrate(BEFORE)
    try:
        provider = provider_create(name="P", api_url="http://127.0.0.1:9/api/v2", api_key="k")
        service = make_service(rate="1.00")
        Service.objects.filter(pk=service.pk).update(provider=provider, provider_service_id=1)
        customer, _ = make_customer("10")
        first, second, third = (
            order_place(
                customer=customer,
                service_id=service.pk,
                params=OrderRequest(link=f"https://e.x/{n}", quantity=100),
            )
            for n in range(3)
        )
        # What the defect left behind: one provider order attached to three orders, one of
        # them already ended (and refunded) by it.
        Order.objects.filter(pk__in=[first.pk, second.pk, third.pk]).update(
            forward_state=ForwardState.SENT, provider_order_id=1055
        )
        order_transition(order_id=second.pk, to=OrderStatus.PARTIAL, remains=40, actor="test")
    finally:
        _migrate(None)  # orders 0005, the migration under test, and everything after it

    kept, ended, running = Order.objects.filter(customer=customer).order_by("id")
    assert (kept.provider_order_id, kept.forward_state) == (1055, ForwardState.SENT)
    assert (ended.provider_order_id, ended.status, ended.forward_state) == (
        None, "Partial", ForwardState.SENT,
    )  # fmt: skip
    assert (running.provider_order_id, running.status, running.forward_state) == (
        None, "Pending", ForwardState.HELD,
    )  # fmt: skip
    assert f"also belonged to order #{kept.pk}" in running.last_error
    for order in (ended, running):
        event = OrderEvent.objects.get(order=order, kind="detached")
        assert event.data["kept_by"] == kept.pk and event.actor == "migration"
    # Money moved before the migration stays as it was: the books still add up.
    customer.refresh_from_db()
    assert customer.balance == Decimal("10") - Decimal("0.3") + Decimal("0.04")
    assert ledger_verify() == []
