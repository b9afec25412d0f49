"""Tickets in the admin: read them, answer them (through ticket_reply), close them.

The operator's own support console arrives later; until then a ticket's page here shows
its thread with a form under it, and a reply is the same service call a customer's is.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse

from smmpanel.core.admin_forms import run_each
from smmpanel.core.errors import PanelError
from smmpanel.support.models import Ticket, TicketMessage
from smmpanel.support.services import ticket_body_clean, ticket_close, ticket_reply


class ReplyForm(forms.ModelForm[TicketMessage]):
    """A new message, checked by the service's own rule before the page is saved."""

    class Meta:
        model = TicketMessage
        fields = ("body",)
        widgets = {"body": forms.Textarea(attrs={"rows": 5, "cols": 90})}

    def clean_body(self) -> str:
        try:
            return ticket_body_clean(self.cleaned_data.get("body") or "")
        except PanelError as exc:
            raise forms.ValidationError(exc.message) from exc


class TicketMessageInline(admin.StackedInline[TicketMessage, Ticket]):
    """The thread, read-only, and one empty message under it: the reply."""

    model = TicketMessage
    form = ReplyForm
    extra = 1
    max_num = None
    can_delete = False
    fields = ("created_at", "author", "is_staff", "body")
    readonly_fields = ("created_at", "author", "is_staff")
    verbose_name = "reply"
    verbose_name_plural = "thread (write a reply in the last box)"

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # messages are never edited: existing ones are shown read-only


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    list_display = ("id", "subject", "customer", "topic", "order", "status", "updated_at")
    list_filter = ("status", "topic")
    search_fields = ("=id", "subject", "customer__user__username")
    list_select_related = ("customer__user",)
    readonly_fields = (
        "customer", "subject", "topic", "order", "status", "created_at", "updated_at",
    )  # fmt: skip
    inlines = (TicketMessageInline,)
    actions = ("close",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers open tickets

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Not in the stock view's transaction: a reply is ticket_reply's own (durable) one.
        return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined,no-any-return]

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        """Nothing: a ticket's fields are read-only here; its replies are saved below."""

    def save_formset(
        self,
        request: HttpRequest,
        form: Any,
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        # What the admin's history records as added; nothing is ever changed or deleted.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for reply in formset.extra_forms:
            body = reply.cleaned_data.get("body") if reply.has_changed() else None
            if not body:
                continue
            try:
                message = ticket_reply(ticket_id=form.instance.pk, author=request.user, body=body)  # type: ignore[arg-type]
            except PanelError as exc:
                self.message_user(request, f"The reply was not sent: {exc.message}", messages.ERROR)
            else:
                formset.new_objects.append(message)

    @admin.action(description="Close the selected tickets")
    def close(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        run_each(request, self, queryset, lambda t: ticket_close(ticket_id=t.pk), "Close")
