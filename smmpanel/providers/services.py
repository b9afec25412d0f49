"""Providers and their catalogs: add a provider, import its services with a markup, and
keep prices in step with it (price sync)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.db import transaction
from django.utils import timezone

from smmpanel.catalog.models import Category, Service, ServiceType
from smmpanel.core.errors import PanelError
from smmpanel.core.money import ZERO, quantize, to_money
from smmpanel.providers.client import ProviderClient, RemoteService
from smmpanel.providers.models import Provider

MarkupKind = Literal["percent", "fixed"]


def provider_create(
    *, name: str, api_url: str, api_key: str, currency: str = "USD", enabled: bool = True
) -> Provider:
    if not api_url.startswith(("http://", "https://")):
        raise PanelError("The provider's API URL must start with http:// or https://")
    if not api_key.strip():
        raise PanelError("The provider's API key is required")
    if Provider.objects.filter(name=name).exists():
        raise PanelError(f"A provider named {name!r} exists already")
    provider = Provider(name=name, api_url=api_url, currency=currency, enabled=enabled)
    provider.set_api_key(api_key.strip())
    provider.save()
    return provider


def provider_client(provider: Provider) -> ProviderClient:
    return ProviderClient(provider.api_url, provider.api_key())


def marked_up(cost: Decimal, kind: str, value: Decimal | None) -> Decimal:
    """Our rate from the provider's: cost plus a percent, or plus a fixed amount per 1000."""
    if value is None or not kind:
        return quantize(cost)
    if kind == "percent":
        return quantize(cost * (Decimal(100) + value) / Decimal(100))
    if kind == "fixed":
        return quantize(cost + value)
    raise PanelError(f"Unknown markup kind {kind!r}: use percent or fixed")


def parse_markup(text: str) -> tuple[MarkupKind, Decimal]:
    """`"25%"` -> percent 25; `"0.10"` -> fixed 0.10 per 1000."""
    raw = text.strip()
    try:
        if raw.endswith("%"):
            return "percent", to_money(raw[:-1])
        return "fixed", to_money(raw)
    except ValueError as exc:
        raise PanelError(f"Bad markup {text!r}: use a percent like 25% or an amount") from exc


@dataclass
class ImportRow:
    remote: RemoteService
    action: Literal["create", "update", "unchanged", "skip"]
    rate: Decimal
    reason: str = ""
    local_id: int | None = None


def import_preview(
    *, provider: Provider, remote: Iterable[RemoteService], markup: tuple[MarkupKind, Decimal]
) -> list[ImportRow]:
    """What an import would do, without writing anything."""
    known = {s.provider_service_id: s for s in Service.objects.filter(provider=provider)}
    rows: list[ImportRow] = []
    for item in remote:
        rate = marked_up(item.rate, *markup)
        local = known.get(item.service)
        if item.type not in ServiceType.values:
            rows.append(ImportRow(item, "skip", rate, f"unsupported type {item.type!r}"))
        elif item.min < 1 or item.max < item.min or item.rate < ZERO:
            rows.append(ImportRow(item, "skip", rate, "bad min/max/rate"))
        elif local is None:
            rows.append(ImportRow(item, "create", rate))
        elif (local.provider_rate, local.min, local.max, local.refill, local.cancel) == (
            item.rate,
            item.min,
            item.max,
            item.refill,
            item.cancel,
        ) and local.provider_dripfeed == item.dripfeed:
            rows.append(ImportRow(item, "unchanged", local.rate, local_id=local.pk))
        else:
            rows.append(ImportRow(item, "update", rate, local_id=local.pk))
    return rows


def services_import(
    *,
    provider: Provider,
    rows: list[ImportRow],
    markup: tuple[MarkupKind, Decimal],
    enable: bool = True,
    progress: Callable[[Iterable[ImportRow]], Iterable[ImportRow]] = lambda rows: rows,
) -> dict[str, int]:
    """Create or update local services from a preview. Returns counts per action."""
    counts = {"create": 0, "update": 0, "unchanged": 0, "skip": 0}
    categories: dict[str, Category] = {}
    kind, value = markup
    for row in progress(rows):
        counts[row.action] += 1
        item = row.remote
        if row.action not in ("create", "update"):
            continue
        with transaction.atomic():
            if item.category not in categories:
                categories[item.category], _ = Category.objects.get_or_create(
                    name=(item.category or "Imported")[:200]
                )
            fields = dict(
                rate=row.rate,
                min=item.min,
                max=item.max,
                refill=item.refill,
                cancel=item.cancel,
                dripfeed=item.dripfeed,
                provider_dripfeed=item.dripfeed,
                provider_rate=item.rate,
                markup_kind=kind,
                markup_value=value,
                provider_missing_since=None,
            )
            if row.action == "create":
                Service.objects.create(
                    name=item.name[:300],
                    category=categories[item.category],
                    type=item.type,
                    provider=provider,
                    provider_service_id=item.service,
                    enabled=enable,
                    **fields,
                )
            elif row.local_id is not None:
                Service.objects.filter(pk=row.local_id).update(updated_at=timezone.now(), **fields)
    return counts


@dataclass
class SyncReport:
    rate_changed: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)
    limits_changed: list[int] = field(default_factory=list)


def price_sync(*, provider: Provider, remote: Iterable[RemoteService]) -> SyncReport:
    """Follow the provider's prices: rates move with their markup, services the provider no
    longer lists are disabled (and reported), ones that come back are reported, not enabled."""
    report = SyncReport()
    by_id = {item.service: item for item in remote}
    now = timezone.now()
    for service in Service.objects.filter(provider=provider):
        item = by_id.get(service.provider_service_id or -1)
        if item is None:
            if service.provider_missing_since is None:
                Service.objects.filter(pk=service.pk).update(
                    provider_missing_since=now, enabled=False, updated_at=now
                )
                report.vanished.append(service.pk)
            continue
        changes: dict[str, object] = {}
        if service.provider_missing_since is not None:
            changes["provider_missing_since"] = None
            report.returned.append(service.pk)
        if item.rate != service.provider_rate:
            new_rate = (
                marked_up(item.rate, service.markup_kind, service.markup_value)
                if service.markup_kind
                else service.rate
            )
            changes.update(provider_rate=item.rate, rate=new_rate)
            report.rate_changed.append((service.pk, service.rate, new_rate))
        if (item.min, item.max) != (service.min, service.max) and item.max >= item.min >= 1:
            changes.update(min=item.min, max=item.max)
            report.limits_changed.append(service.pk)
        if item.dripfeed != service.provider_dripfeed:
            # Only what the provider takes: whether customers may order drip-feed stays the
            # operator's choice (without the provider's, the panel sends the runs itself).
            changes["provider_dripfeed"] = item.dripfeed
        if changes:
            Service.objects.filter(pk=service.pk).update(updated_at=now, **changes)
    return report
