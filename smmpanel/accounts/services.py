"""Creating customers and their keys. A key's plain text exists only in the return value."""

from __future__ import annotations

import secrets
import zoneinfo
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from smmpanel.accounts.models import (
    NO_DISCOUNT,
    PERCENT_PLACES,
    ApiKey,
    Customer,
    api_key_digest,
)
from smmpanel.billing.models import EntryKind
from smmpanel.billing.services import customer_lock, ledger_post
from smmpanel.core.errors import PanelError
from smmpanel.core.money import ZERO, to_money


def api_key_create(*, customer: Customer, label: str = "") -> tuple[ApiKey, str]:
    """A new key for `customer`; returns the row and the key, which is never stored."""
    key = secrets.token_hex(16)  # 32 hex characters, the shape panel clients expect
    row = ApiKey.objects.create(
        customer=customer, digest=api_key_digest(key), prefix=key[:8], label=label
    )
    return row, key


def api_key_revoke(*, api_key_id: int) -> None:
    ApiKey.objects.filter(pk=api_key_id, is_active=True).update(
        is_active=False, revoked_at=timezone.now()
    )


def customer_create(
    *,
    username: str,
    password: str | None = None,
    email: str = "",
    balance: Decimal | str = ZERO,
    currency: str | None = None,
    discount_percent: Decimal | str = NO_DISCOUNT,
) -> tuple[Customer, str]:
    """A customer with a login (none when `password` is empty: the operator sets one later),
    an API key, a discount, and an opening balance booked as a ledger deposit. Returns the
    customer and the key, which is shown once and never stored."""
    username = username.strip()
    if not username:
        raise PanelError("A customer needs a username")
    opening = to_money(balance)
    if opening < ZERO:
        raise PanelError("The opening balance cannot be negative")
    discount = _percent(discount_percent)
    User = get_user_model()
    with transaction.atomic(durable=True):
        if User.objects.filter(username=username).exists():
            raise PanelError(f"The username {username!r} is taken")
        user = User(username=username, email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        customer = Customer.objects.create(
            user=user, discount_percent=discount, **({"currency": currency} if currency else {})
        )
        _, key = api_key_create(customer=customer, label="created with the account")
        if opening > ZERO:
            locked = customer_lock(customer.pk)
            ledger_post(
                customer=locked, kind=EntryKind.DEPOSIT, amount=opening, memo="Opening balance"
            )
            customer.balance = locked.balance
    return customer, key


def customer_sign_up(*, user: User) -> Customer:
    """The customer behind a person who signed up on the pages: a zero balance, the panel's
    currency, and no API key until they ask for one (a key nobody uses is a key to leak)."""
    return Customer.objects.create(user=user)


def customer_preferences_update(*, customer: Customer, time_zone: str, language: str) -> None:
    """A customer's time zone (an IANA name, or "" for the panel's) and language (one of
    settings.LANGUAGES, or "" for the browser's)."""
    time_zone = time_zone.strip()
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise PanelError(f"Unknown time zone: {time_zone!r}")
    if language and language not in dict(settings.LANGUAGES):
        raise PanelError(f"Unknown language: {language!r}")
    Customer.objects.filter(pk=customer.pk).update(time_zone=time_zone, language=language)
    customer.time_zone, customer.language = time_zone, language


def _percent(value: Decimal | str) -> Decimal:
    """A discount: 0 to 100, in hundredths of a percent at most."""
    if isinstance(value, float):
        raise TypeError("a discount is never a float")
    try:
        percent = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise PanelError(f"The discount is not a number: {value!r}") from None
    if not percent.is_finite() or not ZERO <= percent <= 100:
        raise PanelError("The discount is a percent from 0 to 100")
    if percent != percent.quantize(PERCENT_PLACES):
        raise PanelError("The discount has at most 2 decimal places")
    return percent.quantize(PERCENT_PLACES)


def api_key_rotate(*, customer: Customer, label: str = "") -> tuple[ApiKey, str]:
    """A customer's new key, their active keys revoked with it: one working key at a time.
    Both happen or neither does; returns the row and the key, which is never stored."""
    with transaction.atomic(durable=True):
        for key_id in ApiKey.objects.filter(customer_id=customer.pk, is_active=True).values_list(
            "pk", flat=True
        ):
            api_key_revoke(api_key_id=key_id)
        return api_key_create(customer=customer, label=label)
