from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from smmpanel.providers.client import ProviderError
from smmpanel.providers.models import Provider
from smmpanel.providers.services import price_sync, provider_client


class ProviderForm(forms.ModelForm[Provider]):
    api_url = forms.URLField(assume_scheme="https", max_length=500)
    #: Write-only: the stored key is never shown; leave empty to keep it.
    api_key = forms.CharField(
        widget=forms.PasswordInput(render_value=False), required=False, strip=True
    )

    class Meta:
        model = Provider
        fields = ("name", "api_url", "api_key", "currency", "enabled")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.instance.pk and not data.get("api_key"):
            self.add_error("api_key", "A new provider needs its API key.")
        return data

    def save(self, commit: bool = True) -> Provider:
        provider = super().save(commit=False)
        if self.cleaned_data.get("api_key"):
            provider.set_api_key(self.cleaned_data["api_key"])
        if commit:
            provider.save()
        return provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin[Provider]):
    form = ProviderForm
    list_display = (
        "name",
        "api_url",
        "enabled",
        "balance",
        "currency",
        "last_error",
        "last_error_at",
    )
    list_filter = ("enabled",)
    readonly_fields = ("balance", "balance_checked_at", "last_error", "last_error_at")
    actions = ("check_balance", "sync_prices")

    @admin.action(description="Check the balance at the provider")
    def check_balance(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            try:
                with provider_client(provider) as client:
                    reply = client.balance()
            except ProviderError as exc:
                self.message_user(request, f"{provider}: {exc}", messages.ERROR)
                continue
            Provider.objects.filter(pk=provider.pk).update(
                balance=reply.balance, balance_checked_at=timezone.now(), last_error=""
            )
            self.message_user(request, f"{provider}: {reply.balance} {reply.currency}")

    @admin.action(description="Sync prices with the provider")
    def sync_prices(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        for provider in queryset:
            try:
                with provider_client(provider) as client:
                    report = price_sync(provider=provider, remote=client.services())
            except ProviderError as exc:
                self.message_user(request, f"{provider}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{provider}: {len(report.rate_changed)} rate change(s), "
                f"{len(report.vanished)} vanished (disabled), {len(report.returned)} returned.",
            )
