"""The kinds registry is the one place an order type is defined: a toy kind added there
alone is placed, charged, reported, forwarded, completed and refunded by its own rules, and
stopped its own way. The drip-feed the panel runs is a kind of that registry too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.money import ZERO, price
from smmpanel.fulfillment.forwarding import upstream_params
from smmpanel.orders.kinds import (
    DRIPFEEDS,
    KINDS,
    Drive,
    OrderKind,
    OrderSpec,
    ServiceTerms,
    kind_of,
    orders_driven,
    register,
)
from smmpanel.orders.models import ForwardState, Order
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_cancel, order_place, order_transition
from smmpanel.orders.states import OrderStatus
from smmpanel.orders.validation import SUBSCRIPTION_DELAYS
from smmpanel.simulator import server as simulator
from tests.factories import Api, make_customer, make_service

pytestmark = pytest.mark.django_db

S = OrderStatus
LINK = "https://instagram.com/some.account"
BLOCK = 100


@dataclass(frozen=True)
class BlocksKind(OrderKind):
    """Sold in whole blocks of 100: the quantity is rounded up to a block, and a Partial
    gives back only the blocks not started."""

    def _price(self, terms: ServiceTerms, request: OrderRequest, spec: OrderSpec) -> None:
        super()._price(terms, request, spec)
        blocks = -(-spec.charged_quantity // BLOCK)
        spec.charged_quantity = spec.fields["quantity"] = blocks * BLOCK
        spec.charge = spec.funds_needed = price(terms.rate, blocks * BLOCK)

    def refund(self, order: Order, status: str, remains: int) -> Decimal:
        if status == S.PARTIAL:
            return price(order.rate, remains // BLOCK * BLOCK)
        return super().refund(order, status, remains)

    def status_reply(self, order: Order, reply: dict[str, Any], children: list[int]) -> None:
        reply["blocks"] = str(order.charged_quantity // BLOCK)


TOY = "Story Blocks"


@pytest.fixture
def toy() -> Iterator[OrderKind]:
    yield register(BlocksKind(TOY, ("link", "quantity")))
    del KINDS[TOY]


def test_a_toy_kind_registered_alone_is_placed_reported_completed_and_refunded(
    toy: OrderKind, api: Api
) -> None:
    customer, key = make_customer("100")
    service = make_service(type=TOY, rate="2.00", min=1, max=10_000)
    assert next(s for s in api(key, "services") if s["service"] == service.pk)["type"] == TOY

    placed = api(key, "add", service=service.pk, link=LINK, quantity="250")
    order = Order.objects.get(pk=placed["order"])
    assert (order.charged_quantity, order.charge) == (300, Decimal("0.60000"))
    assert upstream_params(order) == {"link": LINK, "quantity": "300"}

    order_transition(order_id=order.pk, to=S.COMPLETED, actor="test")
    reply = api(key, "status", order=order.pk)
    assert (reply["status"], reply["remains"], reply["blocks"]) == ("Completed", "0", "3")

    partial = order_place(
        customer=customer, service_id=service.pk, params=OrderRequest(link=LINK, quantity=500)
    )
    order_transition(order_id=partial.pk, to=S.PARTIAL, remains=250, actor="test")
    canceled = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(link=LINK + "/2", quantity=100),
    )
    order_transition(order_id=canceled.pk, to=S.CANCELED, actor="test")

    # 250 undelivered of 500 gives two whole blocks back; a cancel gives back all of it.
    refunds = LedgerEntry.objects.filter(customer=customer, kind=EntryKind.REFUND)
    assert sorted(refunds.values_list("amount", flat=True)) == [Decimal("0.2"), Decimal("0.4")]
    assert Decimal(api(key, "balance")["balance"]) == Decimal("100") - Decimal("0.6") - Decimal(
        "0.6"
    )


@dataclass(frozen=True)
class FinalSaleKind(OrderKind):
    """Never canceled, whatever its service says: its stop refuses."""

    def stop(self, *, order_id: int, actor: str, reason: str, customer: bool) -> Order | None:
        raise PanelError(ErrorCode.CANCEL_UNAVAILABLE)


def test_a_toy_kind_s_own_stop_is_what_a_cancel_does(api: Api) -> None:
    register(FinalSaleKind("Final Sale", ("link", "quantity")))
    try:
        _, key = make_customer("100")
        service = make_service(type="Final Sale", rate="1.00", cancel=True)
        placed = api(key, "add", service=service.pk, link=LINK, quantity="100")
        assert api(key, "cancel", orders=str(placed["order"])) == [
            {
                "order": placed["order"],
                "cancel": {"error": "Cancel is not available for this service"},
            }
        ]
        with pytest.raises(PanelError):
            order_cancel(order_id=placed["order"], actor="test")
        assert Order.objects.get(pk=placed["order"]).status == S.PENDING
    finally:
        del KINDS["Final Sale"]


def test_the_drip_feed_the_panel_runs_is_a_kind_of_the_registry() -> None:
    customer, _ = make_customer("100")
    service = make_service(rate="1.00", min=10, max=1000, dripfeed=True)  # no provider
    drip = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(link=LINK, quantity=100, runs=3, interval=5),
    )
    plain = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(link=LINK + "/2", quantity=100),
    )
    assert kind_of(drip) is DRIPFEEDS[ServiceType.DEFAULT]
    assert (kind_of(drip).drive, drip.forward_state) == (Drive.DRIPFEED, ForwardState.DRIPFEED)
    assert kind_of(plain) is KINDS[ServiceType.DEFAULT]
    assert list(
        Order.objects.filter(orders_driven(Drive.DRIPFEED)).values_list("pk", flat=True)
    ) == [drip.pk]
    # Its stop is its own: the operator's cancel stops the runs (the worker then ends it).
    stopped = order_cancel(order_id=drip.pk, actor="test")
    assert (stopped.status, stopped.cancel_requested_at is not None) == (S.PENDING, True)


def test_a_type_no_kind_declares_is_not_a_service_anyone_can_order(api: Api) -> None:
    customer, key = make_customer("100")
    service = make_service(type="Unheard Of")
    assert api(key, "add", service=service.pk, link=LINK, quantity="100") == {
        "error": "Incorrect service ID"
    }
    assert not Order.objects.filter(customer=customer).exists()


def test_every_service_type_has_a_kind() -> None:
    assert set(KINDS) == set(ServiceType.values)


def test_the_simulator_s_own_table_agrees_with_the_kinds() -> None:
    """The simulator may not import the panel (a peer, not a copy), so it keeps its own
    table of api-v2.md's `add`; the two must say the same."""
    assert {t: k.required for t, k in KINDS.items()} == simulator.REQUIRED
    assert {t: k.counted for t, k in KINDS.items() if k.charge == "lines"} == (
        simulator.COUNTED_LIST
    )
    assert {t for t, k in KINDS.items() if k.charge == "package"} == simulator.PACKAGE_TYPES
    assert set(SUBSCRIPTION_DELAYS) == simulator.SUBSCRIPTION_DELAYS


# --- the typed request -----------------------------------------------------------------


def test_the_wire_s_strings_are_read_into_typed_values() -> None:
    request = OrderRequest.from_text(
        {"link": f"  {LINK} ", "quantity": "1e3", "runs": " ", "expiry": "31/12/2030", "x": "1"}
    )
    assert request == OrderRequest(link=LINK, quantity=1000, expiry=dt.date(2030, 12, 31))
    assert not request.given("runs")


def test_a_value_not_of_its_type_is_refused_where_the_kind_checks_it() -> None:
    request = OrderRequest.from_text({"link": LINK, "quantity": "lots", "expiry": "2030-12-31"})
    assert request.malformed == {"quantity", "expiry"}
    terms = ServiceTerms(type="Default", rate=Decimal(1), min=1, max=10, dripfeed=False)
    with pytest.raises(PanelError) as caught:
        KINDS["Default"].spec(terms, request)
    assert (caught.value.code, caught.value.field) == (ErrorCode.NOT_A_WHOLE_NUMBER, "quantity")


def test_a_form_s_typed_values_place_an_order_without_any_text() -> None:
    customer, _ = make_customer("100")
    service = make_service(type=ServiceType.SUBSCRIPTIONS, rate="1.00", min=10, max=100)
    order = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(username="bob", min=10, max=50, delay=0, posts=3),
    )
    assert (order.status, order.sub_max, order.sub_posts, order.charge) == (
        S.ACTIVE,
        50,
        3,
        ZERO,
    )
