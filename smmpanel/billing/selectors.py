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


def payment_method_by_id(method_id: int) -> PaymentMethod | None:
    """A method, enabled or not: whether it may take a payment is `payment_create`'s to say."""
    return PaymentMethod.objects.filter(pk=method_id).first()


def payment_of(customer: Customer, uid: str | uuid.UUID) -> Payment | None:
    """One of `customer`'s payments by its uid; another customer's is None, like no payment."""
    try:
        value = uid if isinstance(uid, uuid.UUID) else uuid.UUID(str(uid))
    except ValueError:
        return None
    return Payment.objects.select_related("method").filter(uid=value, customer=customer).first()
