"""The shape the worker and the order services keep: one writer of a status whose hooks run in
its transaction, imports that go one way, and the worker's passes as data."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import pytest

from smmpanel.billing.models import LedgerEntry
from smmpanel.fulfillment import worker as worker_module
from smmpanel.fulfillment.upstream_status import is_forward
from smmpanel.fulfillment.worker import Worker
from smmpanel.orders import services
from smmpanel.orders.dripfeed import dripfeed_wake
from smmpanel.orders.models import Order
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place, order_transition
from smmpanel.orders.states import OrderStatus, can_transition
from tests.factories import make_customer, make_service

ORDERS = Path(services.__file__).parent


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(module, inside a function) for every `from X import` in the tree."""
    found: list[tuple[str, bool]] = []

    def walk(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom) and child.module:
                found.append((child.module, nested))
            walk(child, nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    walk(tree, False)
    return found


def test_order_services_import_none_of_the_order_modules_that_use_them():
    imported = {module for module, _ in _imports(ast.parse((ORDERS / "services.py").read_text()))}
    assert "smmpanel.orders.dripfeed" not in imported
    assert "smmpanel.orders.subscriptions" not in imported


def test_no_module_of_orders_imports_the_services_from_inside_a_function():
    for path in ORDERS.glob("*.py"):
        nested = [m for m, inside in _imports(ast.parse(path.read_text())) if inside]
        assert "smmpanel.orders.services" not in nested, path.name


def test_the_drip_feed_wake_up_is_a_registered_hook():
    assert dripfeed_wake in services.AFTER_TRANSITION


@pytest.mark.django_db
def test_after_transition_hooks_run_inside_the_transition_and_see_its_result(monkeypatch):
    customer, _ = make_customer("100")
    order = order_place(
        customer=customer,
        service_id=make_service().pk,
        params=OrderRequest(link="https://example.com/p/1", quantity=100),
    )
    seen: list[tuple[int, str, str, str]] = []

    def hook(order: Order, was: OrderStatus, to: OrderStatus, now: datetime) -> None:
        seen.append((order.pk, was, to, order.status))
        if to == OrderStatus.CANCELED:
            raise RuntimeError("a hook failed")

    monkeypatch.setattr(services, "AFTER_TRANSITION", [*services.AFTER_TRANSITION, hook])
    order_transition(order_id=order.pk, to=OrderStatus.IN_PROGRESS, actor="test")
    assert seen == [(order.pk, "Pending", "In progress", "In progress")]
    # A hook that fails undoes the move it follows, refund and all: it is one transaction.
    with pytest.raises(RuntimeError):
        order_transition(order_id=order.pk, to=OrderStatus.CANCELED, actor="test")
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    assert not LedgerEntry.objects.filter(order=order, kind="refund").exists()


def test_a_provider_status_moves_an_order_only_along_the_transitions_table():
    for current in OrderStatus:
        for new in OrderStatus:
            assert is_forward(current, new) == can_transition(current, new), (current, new)
    # An ended order stays ended whatever its provider says later.
    assert not is_forward(OrderStatus.COMPLETED, OrderStatus.PARTIAL)
    assert not is_forward(OrderStatus.PARTIAL, OrderStatus.CANCELED)


def test_the_worker_writes_no_row_itself():
    """Every write is a named service (fulfillment/services.py and the orders services): the
    worker claims, calls providers, and calls services."""
    tree = ast.parse(Path(worker_module.__file__).read_text())
    writes = {"update", "create", "save", "delete", "bulk_create", "bulk_update"}
    called = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in writes
    ]
    assert called == []
    # Nor opens a transaction of its own: the services do, each for one use case.
    assert not [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.db"
        for alias in node.names
        if alias.name == "transaction"
    ]


def test_a_round_is_the_list_of_passes_in_order():
    worker = Worker(name="shape")
    assert [p.name for p in worker.passes()] == [
        "recover_abandoned_sends",
        "forward",
        "dripfeed",
        "cancel",
        "poll",
        "subscription_poll",
        "subscription_chores",
        "refill_forward",
        "refill_poll",
        "balance",
    ]
    worker.config.poll_batch = 7
    assert {p.name: p.batch for p in worker.passes()}["poll"] == 7
