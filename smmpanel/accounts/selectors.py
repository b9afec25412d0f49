from __future__ import annotations

from smmpanel.accounts.models import Customer, api_key_digest


def customer_by_api_key(key: str) -> Customer | None:
    """The active customer holding this active key: one indexed query."""
    if not key or len(key) > 200:
        return None
    return Customer.objects.filter(
        api_keys__digest=api_key_digest(key), api_keys__is_active=True, is_active=True
    ).first()
