from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from smmpanel.billing.gateways import GATEWAYS
from smmpanel.billing.models import LedgerEntry, Payment, PaymentCallback, PaymentMethod
from smmpanel.billing.services import payment_confirm, payment_reject
from smmpanel.core.admin_forms import AmountActionForm, action_value, run_each


class ReadOnly:
    """Evidence and books: looked at, never written from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnly, admin.ModelAdmin[LedgerEntry]):
    """Read-only: the ledger is append-only; balances change through customer actions."""

    list_display = (
        "id",
        "created_at",
        "customer",
        "kind",
        "amount",
        "balance_after",
        "order",
        "payment",
        "cause",
        "memo",
    )
    list_filter = ("kind",)
    search_fields = ("customer__user__username", "memo", "order__id")
    list_select_related = ("customer__user",)
    date_hierarchy = "created_at"


class PaymentMethodForm(forms.ModelForm[PaymentMethod]):
    gateway = forms.ChoiceField(choices=[(code, g.label) for code, g in GATEWAYS.items()])
    secrets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="The gateway's secrets, one name=value a line (stored encrypted, never "
        "shown). Empty: keep the ones set. Stripe: secret_key, webhook_secret; Cryptomus: "
        "payment_key (and merchant_id in the config); demo: signing_secret.",
    )

    class Meta:
        model = PaymentMethod
        fields = (
            "code",
            "name",
            "gateway",
            "enabled",
            "min_amount",
            "max_amount",
            "fee_percent",
            "fee_fixed",
            "bonus_percent",
            "bonus_from",
            "instructions",
            "config",
        )

    def clean_secrets(self) -> dict[str, str] | None:
        text = str(self.cleaned_data.get("secrets") or "")
        if not text.strip():
            return None
        values: dict[str, str] = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise forms.ValidationError("Each line is name=value.")
            values[name.strip()] = value.strip()
        return values

    def save(self, commit: bool = True) -> PaymentMethod:
        method = super().save(commit=False)
        values = self.cleaned_data.get("secrets")
        if values is not None:
            method.set_secrets(values)
        if commit:
            method.save()
        return method


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin[PaymentMethod]):
    form = PaymentMethodForm
    list_display = (
        "name",
        "code",
        "gateway",
        "enabled",
        "min_amount",
        "max_amount",
        "fee_percent",
        "fee_fixed",
        "bonus_percent",
        "bonus_from",
        "has_secrets",
    )
    list_filter = ("enabled", "gateway")

    @admin.display(boolean=True, description="secrets set")
    def has_secrets(self, obj: PaymentMethod) -> bool:
        return bool(obj.secrets_encrypted)


class PaymentCallbackInline(ReadOnly, admin.TabularInline[PaymentCallback, Payment]):
    model = PaymentCallback
    extra = 0
    fields = ("received_at", "verified", "outcome", "detail", "event_id", "remote_addr", "text")
    readonly_fields = fields

    @admin.display(description="body")
    def text(self, obj: PaymentCallback) -> str:
        return format_html("<code>{}</code>", body_text(obj))


def body_text(obj: PaymentCallback) -> str:
    return bytes(obj.body).decode("utf-8", "backslashreplace")[:4000]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin[Payment]):
    """Payments change only through the actions, which call the same services as the
    gateways' callbacks: approving credits exactly once, whoever presses first."""

    list_display = (
        "id",
        "created_at",
        "customer",
        "method",
        "status",
        "amount",
        "fee",
        "bonus",
        "currency",
        "payer_reference",
        "gateway_reference",
        "reason",
    )
    list_filter = ("status", "method", "currency")
    search_fields = (
        "=id",
        "customer__user__username",
        "gateway_reference",
        "payer_reference",
        "=uid",
    )
    list_select_related = ("customer__user", "method")
    date_hierarchy = "created_at"
    inlines = (PaymentCallbackInline,)
    action_form = AmountActionForm
    actions = ("approve", "reject")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Payment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Approve: credit the payment (and its bonus)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        actor = f"operator {request.user}"
        run_each(
            request,
            self,
            queryset,
            lambda p: payment_confirm(payment_id=p.pk, actor=actor),
            "Approve",
        )

    @admin.action(description="Reject the payment (the memo says why)")
    def reject(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        actor, memo = f"operator {request.user}", action_value(request, "memo")
        run_each(
            request,
            self,
            queryset,
            lambda p: payment_reject(payment_id=p.pk, actor=actor, reason=memo),
            "Reject",
        )


@admin.register(PaymentCallback)
class PaymentCallbackAdmin(ReadOnly, admin.ModelAdmin[PaymentCallback]):
    list_display = ("id", "received_at", "method", "payment", "verified", "outcome", "detail")
    list_filter = ("outcome", "verified", "method")
    search_fields = ("=payment__id", "event_id", "detail")
    readonly_fields = (
        "method",
        "payment",
        "received_at",
        "remote_addr",
        "headers",
        "text",
        "verified",
        "event_id",
        "outcome",
        "detail",
    )
    exclude = ("body",)

    @admin.display(description="body")
    def text(self, obj: PaymentCallback) -> str:
        return format_html("<pre>{}</pre>", body_text(obj))
