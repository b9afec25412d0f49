from django.contrib import admin

from smmpanel.catalog.models import Category, Service


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ("name", "position", "enabled")
    list_editable = ("position", "enabled")
    search_fields = ("name",)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = (
        "id", "name", "category", "type", "rate", "min", "max", "refill", "cancel", "dripfeed",
        "enabled", "provider", "provider_service_id", "provider_rate",
    )  # fmt: skip
    list_display_links = ("id", "name")
    list_editable = ("rate", "enabled")
    list_filter = ("enabled", "provider", "type", "category", "refill", "cancel", "dripfeed")
    search_fields = ("name", "description")
    list_select_related = ("category", "provider")
