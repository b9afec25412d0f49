"""The ledger's rules are the database's rules: rows that break them cannot be written, even
by code that skips the services. And the services themselves keep balance == sum(ledger)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.billing.services import (
    InsufficientFunds,
    customer_adjust,
    customer_deposit,
    customer_lock,
    ledger_post,
    ledger_verify,
)
from smmpanel.core.errors import PanelError
from smmpanel.orders.services import order_transition
from smmpanel.orders.states import OrderStatus
from tests.factories import make_customer, make_service
from tests.orders.helpers import LINK, balance_of, place

db = pytest.mark.django_db
K = EntryKind


def _charged_order(balance: str = "10"):
    customer, _ = make_customer(balance)
    order = place(customer, make_service(rate="0.90"), link=LINK, quantity="1000")
    return customer, order


def _raw(customer: Customer, kind: str, amount: str, after: str, order=None, cause: str = ""):
    """A ledger row written straight to the table, past every service."""
    return LedgerEntry.objects.create(
        customer=customer,
        kind=kind,
        amount=Decimal(amount),
        balance_after=Decimal(after),
        order=order,
        cause=cause,
    )


# --- constraints -------------------------------------------------------------------------


@db
def test_one_charge_per_order():
    customer, order = _charged_order()
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(customer, K.CHARGE, "-0.90", "8.20", order=order)
    assert LedgerEntry.objects.filter(order=order, kind=K.CHARGE).count() == 1


@db
def test_one_refund_per_order_and_cause():
    customer, order = _charged_order()
    order_transition(order_id=order.pk, to=OrderStatus.CANCELED, actor="test")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(customer, K.REFUND, "0.90", "10.90", order=order, cause="canceled")
    assert LedgerEntry.objects.filter(order=order, kind=K.REFUND).count() == 1


@db
def test_a_refund_with_another_cause_is_a_different_refund():
    # The unique key is (order, cause), not order alone: this row is accepted (and undone).
    customer, order = _charged_order()
    order_transition(order_id=order.pk, to=OrderStatus.CANCELED, actor="test")
    with transaction.atomic():
        _raw(customer, K.REFUND, "0.10", "10.10", order=order, cause="goodwill")
        assert LedgerEntry.objects.filter(order=order, kind=K.REFUND).count() == 2
        transaction.set_rollback(True)
    assert LedgerEntry.objects.filter(order=order, kind=K.REFUND).count() == 1


@db
def test_a_second_charge_row_is_refused_even_with_another_cause():
    customer, order = _charged_order()
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(customer, K.CHARGE, "-0.90", "8.20", order=order, cause="again")


@db
def test_balance_after_never_below_zero():
    customer, _ = make_customer("1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(customer, K.ADJUSTMENT, "-2", "-1")


@db
def test_customer_balance_never_below_zero():
    customer, _ = make_customer("1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(balance=Decimal("-0.00001"))
    assert balance_of(customer) == Decimal("1")


@db
@pytest.mark.parametrize(
    ("kind", "amount", "with_order"),
    [
        (K.DEPOSIT, "0", False),  # an entry moves money
        (K.ADJUSTMENT, "0", False),
        (K.DEPOSIT, "-1", False),  # deposits and refunds are money in
        (K.REFUND, "-1", True),
        (K.CHARGE, "1", True),  # charges are money out
        (K.CHARGE, "-1", False),  # charges and refunds belong to an order
        (K.REFUND, "1", False),
    ],
)
def test_entry_sign_and_order_rules(kind, amount, with_order):
    customer, _ = _charged_order()
    # A fresh order so that the charge and refund unique keys are not what refuses the row.
    fresh = place(customer, make_service(rate="0"), link=LINK, quantity="100")
    assert not LedgerEntry.objects.filter(order=fresh).exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(customer, kind, amount, "5", order=fresh if with_order else None)


# --- ledger_post and the services over it ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ledger_post_refuses_to_run_outside_a_transaction():
    customer, _ = make_customer("1")
    with pytest.raises(RuntimeError):
        ledger_post(customer=customer, kind=K.DEPOSIT, amount=Decimal("1"))
    assert balance_of(customer) == Decimal("1")


@db
def test_ledger_post_keeps_the_running_balance():
    customer, _ = make_customer("1")
    with transaction.atomic():
        locked = customer_lock(customer.pk)
        first = ledger_post(customer=locked, kind=K.DEPOSIT, amount=Decimal("0.123456"))
        second = ledger_post(customer=locked, kind=K.ADJUSTMENT, amount=Decimal("-1.12346"))
    assert first.amount == Decimal("0.12346")  # quantized half-up
    assert first.balance_after == Decimal("1.12346")
    assert second.balance_after == Decimal("0")
    assert balance_of(customer) == Decimal("0")


@db
def test_ledger_post_refuses_an_overdraft_and_writes_nothing():
    customer, _ = make_customer("1")
    with pytest.raises(InsufficientFunds), transaction.atomic():
        locked = customer_lock(customer.pk)
        ledger_post(customer=locked, kind=K.ADJUSTMENT, amount=Decimal("-1.00001"))
    assert balance_of(customer) == Decimal("1")
    assert LedgerEntry.objects.filter(customer=customer).count() == 1


@db
@pytest.mark.parametrize("amount", ["0", "0.000004", "-0.000004"])
def test_ledger_post_refuses_a_zero_entry(amount):
    customer, _ = make_customer("1")
    with pytest.raises(ValueError), transaction.atomic():
        ledger_post(customer=customer_lock(customer.pk), kind=K.DEPOSIT, amount=Decimal(amount))
    assert LedgerEntry.objects.filter(customer=customer).count() == 1


@db
def test_deposit_and_adjust():
    customer, _ = make_customer("0")
    customer_deposit(customer_id=customer.pk, amount="2.000005")
    assert balance_of(customer) == Decimal("2.00001")
    customer_adjust(customer_id=customer.pk, amount="-0.00001", memo="rounding")
    assert balance_of(customer) == Decimal("2")
    kinds = list(LedgerEntry.objects.filter(customer=customer).order_by("id").values_list("kind"))
    assert kinds == [(K.DEPOSIT,), (K.ADJUSTMENT,)]


@db
@pytest.mark.parametrize("amount", ["0", "-1", "0.000004", "abc", "nan", "1e30"])
def test_deposit_refuses_what_is_not_a_positive_amount(amount):
    customer, _ = make_customer("1")
    with pytest.raises((PanelError, ValueError)):
        customer_deposit(customer_id=customer.pk, amount=amount)
    assert balance_of(customer) == Decimal("1")


@db
def test_adjust_needs_a_reason_and_cannot_overdraw():
    customer, _ = make_customer("1")
    with pytest.raises(PanelError):
        customer_adjust(customer_id=customer.pk, amount="1", memo="  ")
    with pytest.raises(InsufficientFunds):
        customer_adjust(customer_id=customer.pk, amount="-1.00001", memo="too much")
    assert balance_of(customer) == Decimal("1")


# --- ledger_verify -----------------------------------------------------------------------


@db
def test_ledger_verify_finds_a_broken_running_balance():
    customer, _ = make_customer("1")
    assert ledger_verify() == []
    with transaction.atomic():
        # Balance and sum agree (2 == 1 + 1), but balance_after lies about the chain.
        _raw(customer, K.DEPOSIT, "1", "3")
        Customer.objects.filter(pk=customer.pk).update(balance=Decimal("2"))
        problems = ledger_verify()
        transaction.set_rollback(True)
    assert [(p.customer_id, p.detail) for p in problems] == [
        (customer.pk, "balance_after breaks the chain")
    ]
    assert ledger_verify() == []


@db
def test_ledger_verify_finds_a_balance_without_its_entry():
    customer, _ = make_customer("1")
    other, _ = make_customer("5")
    with transaction.atomic():
        _raw(customer, K.DEPOSIT, "1", "2")  # the entry, but no balance change
        problems = ledger_verify()
        transaction.set_rollback(True)
    assert [(p.customer_id, p.detail) for p in problems] == [
        (customer.pk, "balance != sum(ledger)")
    ]
    assert other.pk not in {p.customer_id for p in problems}
