"""Reads of payments and methods."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import Payment, PaymentMethod


def payment_methods_enabled() -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(enabled=True).order_by("name")


def payment_by_uid(uid: str | uuid.UUID) -> Payment | None:
    try:
        value = uid if isinstance(uid, uuid.UUID) else uuid.UUID(str(uid))
    except ValueError:
        return None
    return Payment.objects.select_related("method", "customer").filter(uid=value).first()


def payments_of(customer: Customer) -> QuerySet[Payment]:
    return Payment.objects.filter(customer=customer).select_related("method").order_by("-id")
