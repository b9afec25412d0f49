from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import AdminForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from smmpanel.accounts.models import NO_DISCOUNT, ApiKey, Customer, CustomerRate
from smmpanel.accounts.services import api_key_create, api_key_revoke, customer_create
from smmpanel.billing.services import customer_adjust, customer_deposit
from smmpanel.core.admin_forms import (
    AmountActionForm,
    CustomerCreateForm,
    action_value,
    run_each,
)
from smmpanel.core.errors import PanelError
from smmpanel.core.money import ZERO


class ApiKeyInline(admin.TabularInline[ApiKey, Customer]):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("prefix", "label", "is_active", "created_at", "revoked_at")
    readonly_fields = ("prefix", "is_active", "created_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # keys are made by the "Create a new API key" action: shown once


class CustomerRateInline(admin.TabularInline[CustomerRate, Customer]):
    model = CustomerRate
    extra = 0
    autocomplete_fields = ("service",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ("user", "balance", "currency", "discount_percent", "is_active", "created_at")
    list_filter = ("is_active", "currency")
    search_fields = ("user__username", "user__email")
    readonly_fields = ("balance", "created_at")
    autocomplete_fields = ("user",)
    inlines = (ApiKeyInline, CustomerRateInline)
    action_form = AmountActionForm
    actions = ("deposit", "adjust", "new_api_key")
    add_fieldsets: list[tuple[str, dict[str, list[str]]]] = [
        ("Login", {"fields": ["username", "email", "password"]}),
        ("Money", {"fields": ["opening_balance", "discount_percent", "currency"]}),
    ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """One form for a new customer, made by accounts.services.customer_create; the new
        API key is shown once, on the page that answers the form. (Not the stock add view:
        it runs in a transaction of its own, and the service's is the use case's one.)"""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CustomerCreateForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                customer, key = customer_create(
                    username=data["username"],
                    email=data["email"],
                    password=data["password"] or None,
                    balance=data["opening_balance"] or ZERO,
                    discount_percent=data["discount_percent"] or NO_DISCOUNT,
                    currency=data["currency"],
                )
            except PanelError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_addition(request, customer, [{"added": {}}])
                return self._created(request, customer, key)
        context = {
            **self.admin_site.each_context(request),
            "title": "Add customer",
            "opts": self.opts,
            # AdminForm lays out any form (the stubs say ModelForm): the admin's own look.
            "adminform": AdminForm(form, self.add_fieldsets, {}, model_admin=self),  # type: ignore[arg-type]
            "errors": form.errors,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/accounts/customer/add_form.html", context)

    def _created(self, request: HttpRequest, customer: Customer, key: str) -> HttpResponse:
        response = TemplateResponse(
            request,
            "admin/accounts/customer/created.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Customer {customer} created",
                "opts": self.opts,
                "customer": customer,
                "api_key": key,
            },
        )
        # The key is on this page only: no browser or proxy keeps a copy.
        add_never_cache_headers(response)
        return response

    @admin.action(description="Deposit the amount given (a payment received)")
    def deposit(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        amount, memo = action_value(request, "amount"), action_value(request, "memo")
        run_each(
            request,
            self,
            queryset,
            lambda c: customer_deposit(
                customer_id=c.pk, amount=amount or "0", memo=memo or "Deposit"
            ),
            "Deposit",
        )

    @admin.action(description="Adjust the balance by the amount given (needs a memo)")
    def adjust(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        amount, memo = action_value(request, "amount"), action_value(request, "memo")
        run_each(
            request,
            self,
            queryset,
            lambda c: customer_adjust(customer_id=c.pk, amount=amount or "0", memo=memo),
            "Adjustment",
        )

    @admin.action(description="Create a new API key (shown once)")
    def new_api_key(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        for customer in queryset:
            _, key = api_key_create(customer=customer, label=f"made by {request.user}")
            self.message_user(
                request,
                f"New API key for {customer}: {key} (it will not be shown again)",
                messages.WARNING,
            )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ("prefix", "customer", "label", "is_active", "created_at", "revoked_at")
    list_filter = ("is_active",)
    search_fields = ("prefix", "customer__user__username")
    readonly_fields = ("customer", "prefix", "is_active", "created_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(api_key_id=key.pk)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")
