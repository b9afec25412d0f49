"""Providers: keys encrypted and never shown; importing a catalog with a markup; price sync."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from smmpanel.catalog.models import Service
from smmpanel.core.errors import PanelError
from smmpanel.providers.client import ProviderClient
from smmpanel.providers.models import Provider
from smmpanel.providers.services import (
    import_preview,
    marked_up,
    parse_markup,
    price_sync,
    provider_create,
    services_import,
)
from smmpanel.simulator.server import DEFAULT_SERVICES, SimService, Simulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim():
    simulator = Simulator(seed=3)
    simulator.start()
    yield simulator
    simulator.stop()


def _remote(sim: Simulator):
    with ProviderClient(sim.url, sim.key) as client:
        return client.services()


def test_the_api_key_is_encrypted_at_rest_and_never_shown(client):
    provider = provider_create(name="P", api_url="https://p.example/api/v2", api_key="s3cret-KEY")
    raw = Provider.objects.values_list("api_key_encrypted", flat=True).get(pk=provider.pk)
    assert "s3cret-KEY" not in raw and provider.api_key() == "s3cret-KEY"
    assert "s3cret" not in repr(provider) and "s3cret" not in str(provider)
    admin = get_user_model().objects.create_superuser("op", "op@example.com", "pw-op-12345")
    client.force_login(admin)
    for url in (
        reverse("admin:providers_provider_changelist"),
        reverse("admin:providers_provider_change", args=[provider.pk]),
    ):
        page = client.get(url)
        assert page.status_code == 200 and b"s3cret" not in page.content
    # Saving the form without a key keeps the old one; giving one replaces it.
    url = reverse("admin:providers_provider_change", args=[provider.pk])
    form = {"name": "P", "api_url": "https://p.example/api/v2", "currency": "USD", "enabled": "on"}
    assert client.post(url, {**form, "api_key": ""}).status_code == 302
    assert Provider.objects.get(pk=provider.pk).api_key() == "s3cret-KEY"
    client.post(url, {**form, "api_key": "new-key"})
    assert Provider.objects.get(pk=provider.pk).api_key() == "new-key"


def test_provider_create_refuses_bad_input():
    with pytest.raises(PanelError):
        provider_create(name="P", api_url="ftp://x", api_key="k")
    with pytest.raises(PanelError):
        provider_create(name="P", api_url="https://x/api/v2", api_key=" ")


def test_markups():
    assert parse_markup("25%") == ("percent", Decimal("25.00000"))
    assert parse_markup("0.10") == ("fixed", Decimal("0.10000"))
    with pytest.raises(PanelError):
        parse_markup("lots")
    assert marked_up(Decimal("0.90"), "percent", Decimal(25)) == Decimal("1.12500")
    assert marked_up(Decimal("0.33333"), "percent", Decimal(10)) == Decimal("0.36666")
    assert marked_up(Decimal("0.90"), "fixed", Decimal("0.1")) == Decimal("1.00000")


def test_import_creates_then_updates_and_skips_what_it_cannot_sell(sim):
    provider = provider_create(name="Sim", api_url=sim.url, api_key=sim.key)
    remote = _remote(sim)
    markup = parse_markup("20%")
    rows = import_preview(provider=provider, remote=remote, markup=markup)
    assert {r.action for r in rows} == {"create"}
    assert Service.objects.count() == 0  # a preview writes nothing
    counts = services_import(provider=provider, rows=rows, markup=markup)
    assert counts["create"] == len(remote)
    followers = Service.objects.get(provider=provider, provider_service_id=1)
    assert (followers.rate, followers.provider_rate) == (Decimal("1.08000"), Decimal("0.90000"))
    assert followers.category.name == "Instagram" and followers.dripfeed and followers.refill

    again = import_preview(provider=provider, remote=_remote(sim), markup=markup)
    assert {r.action for r in again} == {"unchanged"}


def test_price_sync_follows_rates_and_disables_vanished_services(sim):
    provider = provider_create(name="Sim", api_url=sim.url, api_key=sim.key)
    markup = parse_markup("10%")
    services_import(
        provider=provider,
        rows=import_preview(provider=provider, remote=_remote(sim), markup=markup),
        markup=markup,
    )
    # The provider raises one price and stops selling another.
    changed = [s for s in DEFAULT_SERVICES if s.service not in (2, 3)]
    likes = next(s for s in DEFAULT_SERVICES if s.service == 2)
    raised = SimService(
        2, likes.name, likes.type, likes.category, "0.50000", likes.min, likes.max,
        cancel=likes.cancel, dripfeed=likes.dripfeed,
    )  # fmt: skip
    other = Simulator(seed=3, services=[*changed, raised])
    other.start()
    try:
        report = price_sync(provider=provider, remote=_remote(other))
    finally:
        other.stop()
    likes_local = Service.objects.get(provider=provider, provider_service_id=2)
    views_local = Service.objects.get(provider=provider, provider_service_id=3)
    assert (likes_local.provider_rate, likes_local.rate) == (Decimal("0.50000"), Decimal("0.55000"))
    assert report.rate_changed == [(likes_local.pk, Decimal("0.36666"), Decimal("0.55000"))]
    assert report.vanished == [views_local.pk]
    assert not views_local.enabled and views_local.provider_missing_since is not None
    # It comes back: reported, but left for the operator to enable.
    report = price_sync(provider=provider, remote=_remote(sim))
    views_local.refresh_from_db()
    assert report.returned == [views_local.pk] and not views_local.enabled


def test_the_import_command_previews_imports_and_syncs(sim):
    provider_create(name="Sim", api_url=sim.url, api_key=sim.key)
    out = io.StringIO()
    call_command("provider_import", "--provider", "Sim", "--markup", "25%", "--dry-run", stdout=out)
    assert "create" in out.getvalue() and Service.objects.count() == 0
    out = io.StringIO()
    call_command("provider_import", "--provider", "Sim", "--markup", "25%", stdout=out)
    assert Service.objects.filter(provider__name="Sim").count() == len(_remote(sim))
    out = io.StringIO()
    call_command("provider_import", "--provider", "Sim", "--sync", stdout=out)
    assert "0 rate change(s)" in out.getvalue()
