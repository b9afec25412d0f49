"""Every balance change goes through `ledger_post`, inside the caller's transaction; money
comes in through payments, credited by `payment_confirm` or a gateway's callback."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from smmpanel.accounts.models import Customer
from smmpanel.billing.gateways import gateway_of
from smmpanel.billing.gateways.base import (
    BadCallback,
    CallbackEvent,
    GatewayError,
    Meaning,
    Urls,
)
from smmpanel.billing.models import (
    CallbackOutcome,
    EntryKind,
    LedgerEntry,
    Payment,
    PaymentCallback,
    PaymentMethod,
    PaymentStatus,
    payment_can_move,
)
from smmpanel.core.errors import ConflictError, ErrorCode, PanelError
from smmpanel.core.money import (
    ZERO,
    currency_places,
    format_rate,
    quantize,
    round_to_currency,
    to_money,
)

logger = logging.getLogger(__name__)


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
    payment_id: int | None = None,
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
        payment_id=payment_id,
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


# --------------------------------------------------------------------------- payments
#
# A payment is created (`payment_create`), started at its gateway outside any transaction,
# and then completed, held or rejected: by the gateway's callbacks
# (`payment_callback_receive`) or by the operator (`payment_confirm`, `payment_reject`).
# Every status change happens under the customer's row lock, then the payment's, and
# moves `WHERE status = <the status read>`; the money moves in the same transaction. The
# ledger's unique constraints (one deposit and one bonus per payment) are the last word.


@dataclass(frozen=True)
class PaymentQuote:
    """What a customer is shown before paying: on the balance, the fee, the bonus, the total
    to pay at the gateway. All in the currency's smallest unit."""

    amount: Decimal
    fee: Decimal
    bonus: Decimal
    total: Decimal
    currency: str


def payment_method_create(
    *,
    code: str,
    name: str,
    gateway: str,
    secrets: Mapping[str, str] | None = None,
    config: Mapping[str, object] | None = None,
    **terms: Decimal | str | bool,
) -> PaymentMethod:
    """A payment method run by `gateway`, its secrets stored encrypted; `terms` are the
    limits, fee and bonus columns (min_amount, fee_percent, bonus_from…)."""
    gateway_of(gateway)  # refuse a gateway that does not exist
    method = PaymentMethod(code=code, name=name, gateway=gateway, config=dict(config or {}))
    for field, value in terms.items():
        setattr(method, field, value)
    method.set_secrets(dict(secrets or {}))
    method.full_clean()
    method.save()
    return method


def payment_quote(*, method: PaymentMethod, amount: Decimal | str, currency: str) -> PaymentQuote:
    """Check `amount` against the method's limits and price it; PanelError if it is refused."""
    places = currency_places(currency)
    try:
        value = to_money(amount)
    except (ValueError, TypeError):
        raise PanelError(ErrorCode.PAYMENT_AMOUNT_INVALID, field="amount", places=places) from None
    if value <= ZERO or round_to_currency(value, currency) != value:
        raise PanelError(ErrorCode.PAYMENT_AMOUNT_INVALID, field="amount", places=places)
    if value < method.min_amount:
        raise PanelError(ErrorCode.PAYMENT_AMOUNT_LESS, min=format_rate(method.min_amount))
    if method.max_amount is not None and value > method.max_amount:
        raise PanelError(ErrorCode.PAYMENT_AMOUNT_MORE, max=format_rate(method.max_amount))
    hundred = Decimal(100)
    fee = round_to_currency(method.fee_fixed + value * method.fee_percent / hundred, currency)
    bonus = ZERO
    if method.bonus_percent > 0 and value >= method.bonus_from:
        bonus = round_to_currency(value * method.bonus_percent / hundred, currency)
    return PaymentQuote(amount=value, fee=fee, bonus=bonus, total=value + fee, currency=currency)


def payment_create(
    *,
    customer: Customer,
    method_id: int,
    amount: Decimal | str,
    urls: Urls,
    payer_reference: str = "",
) -> Payment:
    """A new payment of `amount` to `customer`'s balance through a method, started at its
    gateway. Manual payments wait for the operator; others carry where the customer pays
    (`checkout_url`). A gateway that fails leaves the payment rejected with its reason."""
    method = PaymentMethod.objects.filter(pk=method_id, enabled=True).first()
    if method is None or not customer.is_active:
        raise PanelError(ErrorCode.PAYMENT_METHOD_UNAVAILABLE)
    gateway = gateway_of(method.gateway)
    quote = payment_quote(method=method, amount=amount, currency=customer.currency)
    payer_reference = payer_reference.strip()[:200]
    if gateway.manual and not payer_reference:
        raise PanelError(ErrorCode.PAYMENT_REFERENCE_MISSING, field="reference")
    with transaction.atomic(durable=True):
        payment = Payment.objects.create(
            customer=customer,
            method=method,
            amount=quote.amount,
            fee=quote.fee,
            bonus=quote.bonus,
            currency=quote.currency,
            payer_reference=payer_reference,
            return_url=urls.return_to,
        )
    try:
        checkout = gateway.start(method=method, payment=payment, urls=urls)  # may be HTTP
        if checkout.reference or checkout.url:
            try:
                with transaction.atomic(durable=True):
                    Payment.objects.filter(pk=payment.pk).update(
                        gateway_reference=checkout.reference[:200], checkout_url=checkout.url
                    )
            except IntegrityError:
                raise GatewayError(
                    f"it gave the reference {checkout.reference!r} of another payment"
                ) from None
    except GatewayError as exc:
        logger.warning("payment %s: %s", payment.pk, exc)
        try:
            with transaction.atomic(durable=True):
                _, locked = _payment_locked(payment.pk)
                _payment_move(locked, PaymentStatus.REJECTED, f"the gateway failed: {exc}")
        except ConflictError:
            pass  # a callback got there first; it decided
        raise PanelError(ErrorCode.PAYMENT_GATEWAY_FAILED) from exc
    payment.refresh_from_db()
    return payment


def _payment_locked(payment_id: int) -> tuple[Customer, Payment]:
    """The payment's customer, then the payment, locked in that order (customers first)."""
    customer_id = Payment.objects.values_list("customer_id", flat=True).get(pk=payment_id)
    customer = customer_lock(customer_id)
    return customer, Payment.objects.select_for_update().select_related("method").get(pk=payment_id)


def _payment_move(payment: Payment, to: PaymentStatus, reason: str = "") -> None:
    """The one writer of a payment's status: only along PAYMENT_TRANSITIONS, and only from
    the status read under the lock."""
    if not payment_can_move(payment.status, to):
        raise ConflictError(f"payment {payment.pk} is {payment.status}: it cannot become {to}")
    now = timezone.now()
    changes: dict[str, object] = {"status": to, "reason": reason[:500], "updated_at": now}
    if to == PaymentStatus.COMPLETED:
        changes["completed_at"] = now
    moved = Payment.objects.filter(pk=payment.pk, status=payment.status).update(**changes)
    if moved != 1:
        raise ConflictError(f"payment {payment.pk} changed under us")
    for name, value in changes.items():
        setattr(payment, name, value)


def _payment_credit(customer: Customer, payment: Payment, *, actor: str) -> None:
    """Complete `payment`: its deposit and its bonus, each its own ledger entry."""
    _payment_move(payment, PaymentStatus.COMPLETED, reason=f"credited by {actor}")
    memo = f"Payment {payment.pk} via {payment.method.name}"
    ledger_post(
        customer=customer,
        kind=EntryKind.DEPOSIT,
        amount=payment.amount,
        payment_id=payment.pk,
        memo=memo,
    )
    if payment.bonus > ZERO:
        ledger_post(
            customer=customer,
            kind=EntryKind.BONUS,
            amount=payment.bonus,
            payment_id=payment.pk,
            memo=f"Bonus on {memo[0].lower()}{memo[1:]}",
        )


def payment_confirm(*, payment_id: int, actor: str) -> Payment:
    """Credit a pending or held payment, exactly once: the operator approving a manual
    transfer, or releasing a held one after checking it."""
    with transaction.atomic(durable=True):
        customer, payment = _payment_locked(payment_id)
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.HELD):
            raise ConflictError(f"payment {payment.pk} is {payment.status}: nothing to credit")
        _payment_credit(customer, payment, actor=actor)
    return payment


def payment_reject(*, payment_id: int, actor: str, reason: str = "") -> Payment:
    """Refuse a pending or held payment: nothing is credited."""
    with transaction.atomic(durable=True):
        _, payment = _payment_locked(payment_id)
        why = f"rejected by {actor}" + (f": {reason.strip()}" if reason.strip() else "")
        _payment_move(payment, PaymentStatus.REJECTED, reason=why)
    return payment


def _callback_find(method: PaymentMethod, event: CallbackEvent) -> int | None:
    """The payment a callback names, among this method's only: a callback verified with one
    method's secret can never touch another method's payment."""
    payments = Payment.objects.filter(method=method)
    if event.payment_uid is not None:
        payments = payments.filter(uid=event.payment_uid)
    elif event.reference:
        payments = payments.filter(gateway_reference=event.reference)
    else:
        return None
    return payments.values_list("pk", flat=True).first()


def _in_currency(amount: Decimal, places: int) -> str:
    """`amount` as the currency writes it (10.50), unless it has more places than that."""
    text = f"{amount:.{places}f}"
    return text if Decimal(text) == amount else f"{amount.normalize():f}"


def _callback_apply(
    customer: Customer, payment: Payment, event: CallbackEvent
) -> tuple[CallbackOutcome, str]:
    Out, S = CallbackOutcome, PaymentStatus
    if event.reference and payment.gateway_reference not in ("", event.reference):
        why = f"the gateway's reference {event.reference!r} is not {payment.gateway_reference!r}"
        return Out.IGNORED, why
    if event.meaning == Meaning.IGNORED:
        return Out.IGNORED, event.detail
    if event.meaning == Meaning.FAILED:
        if payment.status != S.PENDING:
            return Out.IGNORED, f"a failure for a payment already {payment.status}"
        _payment_move(payment, S.REJECTED, reason=f"the gateway says: {event.detail or 'failed'}")
        return Out.REJECTED, event.detail
    if payment.status == S.COMPLETED:
        return Out.DUPLICATE, "already credited"
    places = currency_places(payment.currency)
    if event.meaning == Meaning.REVIEW:
        problem = f"the gateway says: {event.detail}"
    elif payment.status == S.HELD:
        # Held stays held, even for a callback that adds up: the operator decides.
        return Out.HELD, f"already held: {payment.reason}"
    elif payment.status == S.REJECTED:
        problem = "paid at the gateway after it was rejected"
    elif event.currency != payment.currency:
        problem = f"paid in {event.currency}, not {payment.currency}"
    elif event.amount != payment.total:
        paid = event.amount if event.amount is None else _in_currency(event.amount, places)
        problem = f"paid {paid}, not {_in_currency(payment.total, places)}"
    else:
        _payment_credit(customer, payment, actor=f"{payment.method.gateway} callback")
        return Out.CREDITED, ""
    if payment.status == S.HELD:
        return Out.HELD, f"{problem} (already held: {payment.reason})"
    _payment_move(payment, S.HELD, reason=problem)
    return Out.HELD, problem


def payment_callback_receive(
    *, method_code: str, headers: Mapping[str, str], body: bytes, remote_addr: str = ""
) -> PaymentCallback:
    """A callback from a gateway, kept as received whatever it says, and acted on only once
    its signature holds: credit (once), hold for the operator, reject or ignore.
    `headers` are keyed in lower case."""
    method = PaymentMethod.objects.filter(code=method_code).first()
    gateway = gateway_of(method.gateway) if method is not None else None
    names = ("content-type", "user-agent", *(gateway.kept_headers if gateway else ()))
    record = PaymentCallback(
        method=method,
        remote_addr=remote_addr[:64],
        headers={name: headers[name][:1000] for name in names if name in headers},
        body=body,
    )
    event: CallbackEvent | None = None
    if method is None or gateway is None:
        record.outcome, record.detail = CallbackOutcome.REFUSED, f"no method {method_code!r}"
    else:
        try:
            event = gateway.read_callback(method=method, headers=headers, body=body)
        except (BadCallback, GatewayError) as exc:
            record.outcome, record.detail = CallbackOutcome.REFUSED, str(exc)[:500]
    with transaction.atomic(durable=True):
        if event is not None and method is not None:
            record.verified, record.event_id = True, event.event_id[:200]
            payment_id = _callback_find(method, event)
            if payment_id is None and event.meaning == Meaning.IGNORED:
                record.outcome, record.detail = CallbackOutcome.IGNORED, event.detail[:500]
            elif payment_id is None:
                record.outcome, record.detail = CallbackOutcome.UNKNOWN, "no such payment"
            else:
                record.payment_id = payment_id
                try:
                    with transaction.atomic():  # the ledger's constraint can still say no
                        customer, payment = _payment_locked(payment_id)
                        outcome, detail = _callback_apply(customer, payment, event)
                except IntegrityError:
                    outcome, detail = (
                        CallbackOutcome.DUPLICATE,
                        "the ledger refused a second credit",
                    )
                record.outcome, record.detail = outcome, detail[:500]
        record.save()
    return record
