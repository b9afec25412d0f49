"""Reading the catalog as one customer sees it: enabled services at their own price."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import OuterRef, Q, QuerySet, Subquery

from smmpanel.accounts.models import Customer, CustomerRate
from smmpanel.catalog.models import Category, Service
from smmpanel.core.money import ZERO, apply_discount


def services_for_customer(customer: Customer) -> QuerySet[Service]:
    """Enabled services in enabled categories, each annotated with `custom_rate` (or None).
    One query, whatever the size of the catalog."""
    custom = CustomerRate.objects.filter(customer_id=customer.pk, service_id=OuterRef("pk"))
    return (
        Service.objects.filter(enabled=True, category__enabled=True)
        .select_related("category")
        .annotate(custom_rate=Subquery(custom.values("rate")[:1]))
    )


def effective_rate(customer: Customer, service: Service) -> Decimal:
    """The price per 1000 this customer pays: their custom rate, else the discounted rate."""
    custom = getattr(service, "custom_rate", None)
    if custom is not None:
        return Decimal(custom)
    if customer.discount_percent and customer.discount_percent > ZERO:
        return apply_discount(service.rate, customer.discount_percent)
    return service.rate


def service_for_customer(customer: Customer, service_id: int) -> Service | None:
    return services_for_customer(customer).filter(pk=service_id).first()


def services_public() -> QuerySet[Service]:
    """Enabled services in enabled categories at their listed rate, for visitors who are not
    logged in. One query."""
    return Service.objects.filter(enabled=True, category__enabled=True).select_related("category")


def services_matching(
    services: QuerySet[Service], *, text: str = "", category_id: int | None = None
) -> QuerySet[Service]:
    """`services` narrowed to a category and to a text found in the service's name, its
    category's name, or equal to its id."""
    if category_id is not None:
        services = services.filter(category_id=category_id)
    text = text.strip()
    if text:
        found = Q(name__icontains=text) | Q(category__name__icontains=text)
        if text.isascii() and text.isdigit() and len(text) < 19:
            found |= Q(pk=int(text))
        services = services.filter(found)
    return services


def categories_listed() -> QuerySet[Category]:
    """The enabled categories that have an enabled service, in their order. One query."""
    return Category.objects.filter(enabled=True, services__enabled=True).distinct()
