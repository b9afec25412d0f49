"""Fields shown beside the admin's action menu, so actions that need a number can take one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ActionForm
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
