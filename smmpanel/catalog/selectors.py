"""Reading the catalog as one customer sees it: enabled services at their own price."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import OuterRef, Q, QuerySet, Subquery

from smmpanel.accounts.models import Customer, CustomerRate
from smmpanel.catalog.models import Service
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


def services_matching(customer: Customer, query: str) -> QuerySet[Service]:
    """The customer's services whose id is `query`, or whose name or category's name holds
    it (every service for a blank query), in catalog order. One query."""
    services = services_for_customer(customer)
    words = query.split()
    for word in words:
        match = Q(name__icontains=word) | Q(category__name__icontains=word)
        if word.isascii() and word.isdigit() and len(word) < 10:
            match |= Q(pk=int(word))
        services = services.filter(match)
    return services
