"""Fields shown beside the admin's action menu, so actions that need a number can take one."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.http import HttpRequest

from smmpanel.core.errors import PanelError


class AmountActionForm(ActionForm):
    amount = forms.DecimalField(required=False, max_digits=15, decimal_places=5)
    memo = forms.CharField(required=False, max_length=300)


class ProgressActionForm(ActionForm):
    remains = forms.IntegerField(required=False, min_value=0)
    start_count = forms.IntegerField(required=False, min_value=0)
    provider_order_id = forms.IntegerField(required=False, min_value=1)
    quantity = forms.IntegerField(required=False, min_value=1)
    post_link = forms.CharField(required=False, max_length=2000)


class CustomerCreateForm(forms.Form):
    """Everything a new customer needs, in one form; its defaults pass its own checks.

    The form only reads and checks what was typed: accounts.services.customer_create makes
    the customer (the opening balance as a ledger deposit, never by setting the balance)."""

    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @/./+/-/_ only.",
    )
    email = forms.EmailField(required=False, label="E-mail")
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="For the customer's web login. Leave it empty for an API-only customer with "
        "no login; a password can be set later from the user's page.",
    )
    opening_balance = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=15,
        decimal_places=5,
        initial=Decimal("0"),
        help_text="Booked as a deposit in the ledger.",
    )
    discount_percent = forms.DecimalField(
        required=False,
        label="Discount (%)",
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        help_text="Taken off every service's rate, unless a custom rate is set for it.",
    )
    currency = forms.CharField(
        required=False,
        min_length=3,
        max_length=3,
        initial=lambda: settings.PANEL_CURRENCY,
        help_text="Of the customer's balance (ISO code); empty: the panel's.",
    )

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"]).strip()
        if get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError(f"The username {username!r} is taken.")
        return username

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"] or settings.PANEL_CURRENCY).strip().upper()

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            # A user as it would be, so that a password too like its name is refused.
            user = get_user_model()(
                username=cleaned.get("username", ""), email=cleaned.get("email", "")
            )
            try:
                password_validation.validate_password(str(password), user=user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


def action_value(request: HttpRequest, name: str) -> str:
    return str(request.POST.get(name, "")).strip()


def run_each(request: HttpRequest, admin: object, items: object, act: object, label: str) -> None:
    """Apply `act` to every selected row; report successes and each refusal separately."""
    done, failed = 0, []
    for item in items:  # type: ignore[attr-defined]
        try:
            act(item)  # type: ignore[operator]
            done += 1
        except PanelError as exc:
            failed.append(f"#{item.pk}: {exc.message}")
    if done:
        admin.message_user(request, f"{label}: {done} done.", messages.SUCCESS)  # type: ignore[attr-defined]
    for line in failed:
        admin.message_user(request, f"{label} refused {line}", messages.ERROR)  # type: ignore[attr-defined]
