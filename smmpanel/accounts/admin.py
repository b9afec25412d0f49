from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from smmpanel.accounts.models import ApiKey, Customer, CustomerRate
from smmpanel.accounts.services import api_key_create, api_key_revoke
from smmpanel.billing.services import customer_adjust, customer_deposit
from smmpanel.core.admin_forms import AmountActionForm, action_value, run_each


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("prefix", "label", "is_active", "created_at", "revoked_at")
    readonly_fields = ("prefix", "is_active", "created_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # keys are made by the "Create a new API key" action: shown once


class CustomerRateInline(admin.TabularInline):
    model = CustomerRate
    extra = 0
    autocomplete_fields = ("service",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("user", "balance", "currency", "discount_percent", "is_active", "created_at")
    list_filter = ("is_active", "currency")
    search_fields = ("user__username", "user__email")
    readonly_fields = ("balance", "created_at")
    autocomplete_fields = ("user",)
    inlines = (ApiKeyInline, CustomerRateInline)
    action_form = AmountActionForm
    actions = ("deposit", "adjust", "new_api_key")

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
class ApiKeyAdmin(admin.ModelAdmin):
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
