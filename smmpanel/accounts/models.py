"""Customers, their API keys and their prices.

A customer's `balance` is a cache of the sum of their ledger entries; it is written only by
`billing.services.ledger_post`, under the customer's row lock, together with the entry.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from smmpanel.core.money import MAX_DIGITS, PLACES, ZERO

#: A percent with the column's two places.
NO_DISCOUNT = Decimal("0.00")
PERCENT_PLACES = Decimal("0.01")


def _default_currency() -> str:
    return str(settings.PANEL_CURRENCY)


class Customer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="customer"
    )
    balance = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=PLACES, default=ZERO, editable=False
    )
    currency = models.CharField(max_length=3, default=_default_currency)
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        # Two places like the column: money's ZERO (five) would fail the field's own check.
        default=NO_DISCOUNT,
        help_text="Taken off every service's rate, unless a custom rate is set for it.",
    )
    is_active = models.BooleanField(default=True)
    #: An IANA zone name ("Europe/Istanbul"); every date on the customer's pages is shown in
    #: it. Empty: the panel's TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    #: One of settings.LANGUAGES; empty: the browser's choice.
    language = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="customer_balance_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="customer_discount_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_username()


def api_key_digest(key: str) -> str:
    """Keys are 128 random bits, so one SHA-256 is enough: no salt or slow hash is needed
    for a secret that cannot be guessed, and lookups stay a single indexed equality."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ApiKey(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="api_keys")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="The first characters, to tell keys apart."
    )
    label = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.customer})"


class CustomerRate(models.Model):
    """A price for one customer and one service, replacing rate and discount."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="custom_rates")
    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="+")
    rate = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "service"], name="customer_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="customer_rate_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} / {self.service_id}: {self.rate}"
