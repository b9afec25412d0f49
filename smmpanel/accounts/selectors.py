from __future__ import annotations

from smmpanel.accounts.models import ApiKey, Customer, api_key_digest


def customer_by_api_key(key: str) -> Customer | None:
    """The active customer holding this active key: one indexed query."""
    if not key or len(key) > 200:
        return None
    return Customer.objects.filter(
        api_keys__digest=api_key_digest(key), api_keys__is_active=True, is_active=True
    ).first()


def api_keys_active(customer: Customer) -> list[ApiKey]:
    """The customer's working keys (their prefixes: the keys themselves are never stored)."""
    return list(ApiKey.objects.filter(customer_id=customer.pk, is_active=True).order_by("-id"))
