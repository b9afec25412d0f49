"""Every balance change goes through `ledger_post`, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.money import ZERO, quantize, to_money


class InsufficientFunds(PanelError):
    def __init__(self) -> None:
        super().__init__(ErrorCode.NOT_ENOUGH_FUNDS)


def customer_lock(customer_id: int) -> Customer:
    """The customer row, locked until the transaction ends. Lock customers before orders."""
    return Customer.objects.select_for_update().get(pk=customer_id)


def ledger_post(
    *,
    customer: Customer,
    kind: EntryKind,
    amount: Decimal,
    order_id: int | None = None,
    cause: str = "",
    memo: str = "",
) -> LedgerEntry:
    """Move `amount` (signed) in or out of a balance and record why.

    `customer` must come from `customer_lock` in the current transaction: the new balance is
    computed here, in Python, from the locked row, so concurrent posts cannot interleave.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post must run inside a transaction")
    amount = quantize(amount)
    if amount == ZERO:
        raise ValueError("a ledger entry moves money; zero is not an entry")
    new_balance = customer.balance + amount
    if new_balance < ZERO:
        raise InsufficientFunds()
    Customer.objects.filter(pk=customer.pk).update(balance=new_balance)
    customer.balance = new_balance
    return LedgerEntry.objects.create(
        customer=customer,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        order_id=order_id,
        cause=cause,
        memo=memo[:300],
    )


def customer_deposit(*, customer_id: int, amount: Decimal | str, memo: str = "") -> LedgerEntry:
    """Add funds (a payment or a manual top-up)."""
    value = to_money(amount)
    if value <= ZERO:
        raise PanelError("A deposit must be a positive amount")
    with transaction.atomic(durable=True):
        customer = customer_lock(customer_id)
        return ledger_post(customer=customer, kind=EntryKind.DEPOSIT, amount=value, memo=memo)


def customer_adjust(*, customer_id: int, amount: Decimal | str, memo: str) -> LedgerEntry:
    """An operator's correction, up or down; never below a zero balance."""
    value = to_money(amount)
    if not memo.strip():
        raise PanelError("An adjustment needs a reason")
    with transaction.atomic(durable=True):
        customer = customer_lock(customer_id)
        return ledger_post(customer=customer, kind=EntryKind.ADJUSTMENT, amount=value, memo=memo)


@dataclass(frozen=True)
class LedgerMismatch:
    customer_id: int
    balance: Decimal
    ledger_sum: Decimal
    detail: str


def ledger_verify() -> list[LedgerMismatch]:
    """Every customer whose balance is not the sum of their ledger, or whose running
    balance_after chain is broken. Empty list: the books add up.

    Summed here in Decimal, one pass in id order, not with SQL SUM: SQLite would add the
    amounts as floats. Ids grow under the customer lock, so id order is posting order."""
    problems: list[LedgerMismatch] = []
    running: dict[int, Decimal] = {}
    for customer_id, amount, after in LedgerEntry.objects.order_by("id").values_list(
        "customer_id", "amount", "balance_after"
    ):
        total = running.get(customer_id, ZERO) + amount
        if total != after:
            problems.append(
                LedgerMismatch(customer_id, after, total, "balance_after breaks the chain")
            )
        running[customer_id] = total
    for customer_id, balance in Customer.objects.values_list("id", "balance"):
        total = running.get(customer_id, ZERO)
        if total != balance:
            problems.append(LedgerMismatch(customer_id, balance, total, "balance != sum(ledger)"))
    return problems
