"""The append-only ledger: the only record of why a balance is what it is.

Invariant (checked by `ledger_verify`): for every customer,
balance == sum(amount of their entries), and each entry's balance_after is the running sum.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from smmpanel.core.money import MAX_DIGITS, PLACES


class EntryKind(models.TextChoices):
    DEPOSIT = "deposit"  #: money in (payment, manual top-up); amount > 0
    CHARGE = "charge"  #: an order paid for; amount < 0
    REFUND = "refund"  #: undelivered part of an order given back; amount > 0
    ADJUSTMENT = "adjustment"  #: an operator's correction, either sign


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
                    | Q(kind__in=[EntryKind.DEPOSIT, EntryKind.REFUND], amount__gt=0)
                    | Q(kind=EntryKind.CHARGE, amount__lt=0)
                ),
                name="ledger_amount_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[EntryKind.DEPOSIT, EntryKind.ADJUSTMENT])
                | Q(order__isnull=False),
                name="ledger_order_entries_have_order",
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
