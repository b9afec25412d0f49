"""Payments through the services: quotes, manual approval, rejection, the bonus as its own
entry, and the ledger's constraints that make a second credit of a payment impossible."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import EntryKind, LedgerEntry, PaymentStatus
from smmpanel.billing.services import (
    customer_lock,
    ledger_post,
    payment_confirm,
    payment_quote,
    payment_reject,
)
from smmpanel.core.errors import ConflictError, ErrorCode, PanelError
from tests.billing.payments import credits, make_method, pay
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
D = Decimal


def balance(customer) -> Decimal:
    return Customer.objects.get(pk=customer.pk).balance


def test_a_quote_adds_the_fee_on_top_and_pays_the_bonus_from_its_threshold():
    method = make_method(
        fee_percent=D("2.5"), fee_fixed=D("0.30"), bonus_percent=D("5"), bonus_from=D("100")
    )
    small = payment_quote(method=method, amount="99.99", currency="USD")
    assert (small.amount, small.fee, small.bonus, small.total) == (
        D("99.99"), D("2.80"), D("0"), D("102.79"),
    )  # fmt: skip
    big = payment_quote(method=method, amount="100", currency="USD")
    assert (big.fee, big.bonus, big.total) == (D("2.80"), D("5.00"), D("102.80"))
    yen = payment_quote(method=method, amount="1000", currency="JPY")
    assert (yen.fee, yen.bonus) == (D("25"), D("50"))


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("abc", ErrorCode.PAYMENT_AMOUNT_INVALID),
        ("0", ErrorCode.PAYMENT_AMOUNT_INVALID),
        ("-5", ErrorCode.PAYMENT_AMOUNT_INVALID),
        ("10.001", ErrorCode.PAYMENT_AMOUNT_INVALID),
        ("NaN", ErrorCode.PAYMENT_AMOUNT_INVALID),
        ("1e30", ErrorCode.PAYMENT_AMOUNT_INVALID),
        ("4.99", ErrorCode.PAYMENT_AMOUNT_LESS),
        ("500.01", ErrorCode.PAYMENT_AMOUNT_MORE),
    ],
)
def test_amounts_outside_the_method_are_refused_with_a_code(amount, code):
    method = make_method(min_amount=D("5"), max_amount=D("500"))
    customer, _ = make_customer("0")
    with pytest.raises(PanelError) as refused:
        pay(customer, method, amount)
    assert refused.value.code == code
    assert not customer.payments.exists()


def test_a_disabled_method_and_a_manual_payment_without_reference_are_refused():
    customer, _ = make_customer("0")
    with pytest.raises(PanelError) as refused:
        pay(customer, make_method(code="off", enabled=False))
    assert refused.value.code == ErrorCode.PAYMENT_METHOD_UNAVAILABLE
    with pytest.raises(PanelError) as refused:
        pay(customer, make_method(), payer_reference="  ")
    assert refused.value.code == ErrorCode.PAYMENT_REFERENCE_MISSING
    assert not customer.payments.exists()


def test_a_manual_payment_waits_then_credits_once_with_its_bonus_as_its_own_entry():
    method = make_method(bonus_percent=D("5"), bonus_from=D("100"))
    customer, _ = make_customer("1")
    payment = pay(customer, method, "200", payer_reference=" BANK-42 ")
    assert payment.status == PaymentStatus.PENDING and payment.payer_reference == "BANK-42"
    assert balance(customer) == D("1")

    done = payment_confirm(payment_id=payment.pk, actor="op")
    assert done.status == PaymentStatus.COMPLETED and done.completed_at is not None
    assert credits(payment) == [(EntryKind.DEPOSIT, D("200")), (EntryKind.BONUS, D("10"))]
    assert balance(customer) == D("211")

    with pytest.raises(ConflictError):
        payment_confirm(payment_id=payment.pk, actor="op")
    with pytest.raises(ConflictError):
        payment_reject(payment_id=payment.pk, actor="op", reason="too late")
    assert balance(customer) == D("211") and len(credits(payment)) == 2


def test_a_rejected_payment_credits_nothing_and_cannot_be_approved():
    customer, _ = make_customer("0")
    payment = pay(customer, make_method())
    rejected = payment_reject(payment_id=payment.pk, actor="op", reason="no such transfer")
    assert rejected.status == PaymentStatus.REJECTED
    assert rejected.reason == "rejected by op: no such transfer"
    with pytest.raises(ConflictError):
        payment_confirm(payment_id=payment.pk, actor="op")
    assert credits(payment) == [] and balance(customer) == 0


def test_the_database_refuses_a_second_deposit_or_bonus_for_one_payment():
    customer, _ = make_customer("0")
    payment = pay(customer, make_method(bonus_percent=D("10"), bonus_from=D("1")))
    payment_confirm(payment_id=payment.pk, actor="op")
    for kind in (EntryKind.DEPOSIT, EntryKind.BONUS):
        with pytest.raises(IntegrityError), transaction.atomic():
            ledger_post(
                customer=customer_lock(customer.pk), kind=kind, amount=D("1"), payment_id=payment.pk
            )
    assert credits(payment) == [(EntryKind.DEPOSIT, D("10")), (EntryKind.BONUS, D("1"))]


def test_bonus_entries_need_a_payment_and_payment_entries_are_credits():
    customer, _ = make_customer("5")
    payment = pay(customer, make_method())
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_post(customer=customer_lock(customer.pk), kind=EntryKind.BONUS, amount=D("1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_post(
            customer=customer_lock(customer.pk),
            kind=EntryKind.ADJUSTMENT,
            amount=D("-1"),
            payment_id=payment.pk,
        )
    assert not LedgerEntry.objects.filter(kind=EntryKind.BONUS).exists()


def test_the_demo_seed_offers_the_demo_gateway_and_a_bank_transfer(settings, tmp_path):
    import io

    from django.core.management import call_command

    from smmpanel.billing.models import PaymentMethod

    settings.VAR_DIR = tmp_path
    call_command("demo_seed", "--port", "8123", "--simulator-port", "9123", stdout=io.StringIO())
    demo, bank = PaymentMethod.objects.get(code="demo"), PaymentMethod.objects.get(code="bank")
    assert (demo.gateway, bank.gateway) == ("demo", "manual")
    assert len(demo.secrets()["signing_secret"]) > 30
    customer, _ = make_customer("0")
    assert pay(customer, demo, "100").bonus == D("5.00")
