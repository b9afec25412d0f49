"""Two operators attaching one provider order id to two held orders at the same moment:
the database's unique index lets one through, and the other gets a clear refusal."""

from __future__ import annotations

import pytest

from smmpanel.core.errors import PanelError
from smmpanel.orders.held import held_attach
from smmpanel.orders.models import ForwardState, Order
from tests.concurrency.race import race
from tests.conftest import postgres_only
from tests.fulfillment.test_held import held_orders, provider_service

ROUNDS = 4

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_one_provider_order_id_attached_at_once_to_two_held_orders_goes_to_one():
    service = provider_service()
    for n in range(ROUNDS):
        first, second = held_orders(service, 2)
        number = 5000 + n
        results = race([
            lambda pk=pk, number=number: held_attach(
                order_id=pk, provider_order_id=number, actor=f"op{pk}"
            )
            for pk in (first.pk, second.pk)
        ])  # fmt: skip
        [winner] = [r for r in results if isinstance(r, Order)]
        [loser] = [r for r in results if isinstance(r, PanelError)]
        assert loser.message == f"Provider order {number} already belongs to order #{winner.pk}"
        rows = Order.objects.filter(pk__in=[first.pk, second.pk]).order_by("id")
        states = {o.pk: (o.forward_state, o.provider_order_id) for o in rows}
        other = first.pk if winner.pk == second.pk else second.pk
        assert states[winner.pk] == (ForwardState.SENT, number)
        assert states[other] == (ForwardState.HELD, None)
