"""The append-only ledger: the only record of why a balance is what it is; and payments,
the way money comes in from outside.

Invariant (checked by `ledger_verify`): for every customer,
balance == sum(amount of their entries), and each entry's balance_after is the running sum.
A payment is credited at most once: the ledger holds at most one deposit and one bonus per
payment, by unique constraints, whatever callbacks race or are replayed.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q

from smmpanel.core import crypto
from smmpanel.core.money import MAX_DIGITS, PLACES


class EntryKind(models.TextChoices):
    DEPOSIT = "deposit"  #: money in (payment, manual top-up); amount > 0
    CHARGE = "charge"  #: an order paid for; amount < 0
    REFUND = "refund"  #: undelivered part of an order given back; amount > 0
    ADJUSTMENT = "adjustment"  #: an operator's correction, either sign
    BONUS = "bonus"  #: a deposit bonus paid with a payment; amount > 0, always has a payment


class LedgerEntry(models.Model):
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES)
    balance_after = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    #: The payment a deposit or bonus credits; a manual top-up by the operator has none.
    payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    #: Why a refund happened ("canceled", "partial", …): one refund per order and cause.
    cause = models.CharField(max_length=40, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_nonneg"
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_nonzero"),
            models.CheckConstraint(
                condition=(
                    Q(kind=EntryKind.ADJUSTMENT)
                    | Q(
                        kind__in=[EntryKind.DEPOSIT, EntryKind.REFUND, EntryKind.BONUS],
                        amount__gt=0,
                    )
                    | Q(kind=EntryKind.CHARGE, amount__lt=0)
                ),
                name="ledger_amount_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[EntryKind.DEPOSIT, EntryKind.ADJUSTMENT, EntryKind.BONUS])
                | Q(order__isnull=False),
                name="ledger_order_entries_have_order",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.BONUS) | Q(payment__isnull=False),
                name="ledger_bonus_has_payment",
            ),
            models.CheckConstraint(
                condition=Q(payment__isnull=True)
                | Q(kind__in=[EntryKind.DEPOSIT, EntryKind.BONUS]),
                name="ledger_payment_entries_credit",
            ),
            # A payment credits once, however many callbacks arrive, at once or a day later.
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(kind=EntryKind.DEPOSIT),
                name="ledger_one_deposit_per_payment",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(kind=EntryKind.BONUS),
                name="ledger_one_bonus_per_payment",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(kind=EntryKind.CHARGE),
                name="ledger_one_charge_per_order",
            ),
            models.UniqueConstraint(
                fields=["order", "cause"],
                condition=Q(kind=EntryKind.REFUND),
                name="ledger_one_refund_per_order_cause",
            ),
        ]
        indexes = [models.Index(fields=["customer", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.customer_id})"


class PaymentMethod(models.Model):
    """A way to pay in, run by one gateway module (`billing/gateways/`), with its limits,
    fee and bonus. The customer asks for `amount` on their balance; they pay
    amount + fee at the gateway; a bonus, when the amount reaches `bonus_from`, is credited
    as its own ledger entry."""

    code = models.SlugField(
        max_length=40, unique=True, help_text="In the callback URL: /payments/callback/<code>"
    )
    name = models.CharField(max_length=100, help_text="What customers see")
    gateway = models.CharField(max_length=40, help_text="The gateway module that runs it")
    enabled = models.BooleanField(default=True, help_text="Offered for new payments")
    min_amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES, default=1)
    max_amount = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=PLACES, null=True, blank=True
    )
    fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0.00"))
    fee_fixed = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=PLACES, default=Decimal("0")
    )
    bonus_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0.00"), help_text="0: no bonus"
    )
    bonus_from = models.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=PLACES,
        default=Decimal("0"),
        help_text="The smallest amount that earns the bonus",
    )
    instructions = models.TextField(
        blank=True, help_text="Shown to the customer (a manual method: where to send money)"
    )
    #: The gateway's settings that are not secret (a merchant id, a sandbox flag…).
    config = models.JSONField(default=dict, blank=True)
    #: Fernet token of a JSON object of the gateway's secrets; never shown, never logged.
    secrets_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(min_amount__gt=0), name="method_min_positive"),
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gte=models.F("min_amount")),
                name="method_max_not_below_min",
            ),
            models.CheckConstraint(
                condition=Q(fee_percent__gte=0, fee_percent__lt=100, fee_fixed__gte=0),
                name="method_fee_range",
            ),
            models.CheckConstraint(
                condition=Q(bonus_percent__gte=0, bonus_percent__lte=100, bonus_from__gte=0),
                name="method_bonus_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def set_secrets(self, values: dict[str, str]) -> None:
        self.secrets_encrypted = crypto.encrypt(json.dumps(values)) if values else ""

    def secrets(self) -> dict[str, str]:
        if not self.secrets_encrypted:
            return {}
        value = json.loads(crypto.decrypt(self.secrets_encrypted))
        return {str(k): str(v) for k, v in value.items()}


class PaymentStatus(models.TextChoices):
    PENDING = "pending"  #: created; waiting for the gateway, or the operator (manual)
    HELD = "held"  #: something did not add up (amount, currency…): the operator decides
    COMPLETED = "completed"  #: credited: its deposit (and bonus) are in the ledger
    REJECTED = "rejected"  #: not paid, failed, expired or refused by the operator


PS = PaymentStatus
#: Which status may follow which. A completed payment is final here (refunds and chargebacks
#: will be ledger entries of their own); a rejected one can still be held, when the money
#: turns up after all, so that the operator decides.
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PS.PENDING: frozenset({PS.HELD, PS.COMPLETED, PS.REJECTED}),
    PS.HELD: frozenset({PS.COMPLETED, PS.REJECTED}),
    PS.REJECTED: frozenset({PS.HELD}),
    PS.COMPLETED: frozenset(),
}


def payment_can_move(current: str, to: PaymentStatus) -> bool:
    return to in PAYMENT_TRANSITIONS.get(PaymentStatus(current), frozenset())


class Payment(models.Model):
    """Money a customer sends through a method. `amount` is what their balance gets,
    `fee` what the gateway's price adds on top (they pay amount + fee), `bonus` the extra
    promised when it was created. Its status changes only in `billing/payments.py`."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="payments")
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES)
    fee = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES, default=Decimal(0))
    bonus = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES, default=Decimal(0))
    currency = models.CharField(max_length=3)
    #: The gateway's id of this payment (a Checkout Session id, an invoice uuid…).
    gateway_reference = models.CharField(max_length=200, blank=True)
    #: What the customer filed (a manual transfer's reference).
    payer_reference = models.CharField(max_length=200, blank=True)
    #: Where the customer goes to pay (the gateway's hosted page).
    checkout_url = models.URLField(max_length=2000, blank=True)
    #: Where the customer comes back to after paying.
    return_url = models.URLField(max_length=2000, blank=True)
    #: Why the payment waits for the operator, or why it was rejected.
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(fee__gte=0, bonus__gte=0), name="payment_fee_bonus_nonneg"
            ),
            models.UniqueConstraint(
                fields=["method", "gateway_reference"],
                condition=~Q(gateway_reference=""),
                name="payment_one_per_gateway_reference",
            ),
        ]
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return f"payment {self.pk} {self.amount} {self.currency} ({self.status})"

    @property
    def total(self) -> Decimal:
        """What the customer pays at the gateway."""
        return self.amount + self.fee


class CallbackOutcome(models.TextChoices):
    CREDITED = "credited"  #: this callback completed the payment
    DUPLICATE = "duplicate"  #: the payment was already credited: nothing more
    HELD = "held"  #: it did not add up: the payment waits for the operator
    REJECTED = "rejected"  #: the gateway says the payment failed
    IGNORED = "ignored"  #: nothing for the panel to do
    UNKNOWN = "unknown"  #: signed, but for no payment of this method
    REFUSED = "refused"  #: not from the gateway (signature, body): believed in nothing


class PaymentCallback(models.Model):
    """Every callback a gateway sent, kept as received, verified or not: the evidence."""

    method = models.ForeignKey(
        PaymentMethod, null=True, on_delete=models.PROTECT, related_name="callbacks"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="callbacks"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    #: The headers that matter (content type, the signature, the gateway's ids).
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    verified = models.BooleanField(default=False)
    #: The gateway's id of the event, when it has one.
    event_id = models.CharField(max_length=200, blank=True)
    #: What the callback did: credited, duplicate, held, rejected, ignored, refused.
    outcome = models.CharField(max_length=20, choices=CallbackOutcome.choices)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"callback {self.pk} {self.outcome}"
