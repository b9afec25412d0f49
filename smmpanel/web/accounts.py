"""How allauth's sign-up becomes a customer, and whether sign-up is open."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from smmpanel.accounts.services import customer_sign_up


class CustomerAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.SIGNUP_OPEN)

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        # The login and its customer are one: neither exists without the other.
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                customer_sign_up(user=user)
        return user
