"""Creating customers and their keys. A key's plain text exists only in the return value."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from smmpanel.accounts.models import ApiKey, Customer, api_key_digest
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
) -> tuple[Customer, str]:
    """A customer with a login, an API key and an opening balance (a ledger deposit)."""
    username = username.strip()
    if not username:
        raise PanelError("A customer needs a username")
    opening = to_money(balance)
    if opening < ZERO:
        raise PanelError("The opening balance cannot be negative")
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
            user=user, **({"currency": currency} if currency else {})
        )
        _, key = api_key_create(customer=customer, label="created with the account")
        if opening > ZERO:
            locked = customer_lock(customer.pk)
            ledger_post(
                customer=locked, kind=EntryKind.DEPOSIT, amount=opening, memo="Opening balance"
            )
            customer.balance = locked.balance
    return customer, key
