from django.contrib import admin
from django.http import HttpRequest

from smmpanel.billing.models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin[LedgerEntry]):
    """Read-only: the ledger is append-only; balances change through customer actions."""

    list_display = (
        "id",
        "created_at",
        "customer",
        "kind",
        "amount",
        "balance_after",
        "order",
        "cause",
        "memo",
    )
    list_filter = ("kind",)
    search_fields = ("customer__user__username", "memo", "order__id")
    list_select_related = ("customer__user",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
