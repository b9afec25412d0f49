"""Upstream providers: other panels speaking API v2 that our services are bought from."""

from __future__ import annotations

from django.db import models

from smmpanel.core import crypto
from smmpanel.core.money import MAX_DIGITS, PLACES


class Provider(models.Model):
    name = models.CharField(max_length=100, unique=True)
    api_url = models.URLField(max_length=500, help_text="e.g. https://provider.example/api/v2")
    #: Fernet token of the provider's API key; never shown, never logged.
    api_key_encrypted = models.TextField(editable=False)
    currency = models.CharField(max_length=3, default="USD")
    balance = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=PLACES, null=True, blank=True, editable=False
    )
    balance_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Provider {self.pk} {self.name!r} {self.api_url}>"

    def set_api_key(self, plain: str) -> None:
        self.api_key_encrypted = crypto.encrypt(plain)

    def api_key(self) -> str:
        return crypto.decrypt(self.api_key_encrypted)
