"""`demo-seed` (what `make run` runs before starting) seeds the demo once, and afterwards
never changes what the operator has changed: passwords, prices, switches, balances, keys."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from smmpanel.accounts.models import ApiKey, Customer
from smmpanel.accounts.selectors import customer_by_api_key
from smmpanel.accounts.services import api_key_revoke, customer_create
from smmpanel.billing.services import customer_adjust
from smmpanel.catalog.models import Service
from smmpanel.providers.models import Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def var(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def seed(port: str = "9123") -> str:
    out = io.StringIO()
    call_command("demo_seed", "--port", "8123", "--simulator-port", port, stdout=out)
    return out.getvalue()


def admin():
    return get_user_model().objects.get(username="admin")


def test_seeding_twice_prints_the_same_working_credentials(var):
    first = seed()
    password = (var / "demo-admin-password").read_text().strip()
    key = (var / "demo-api-key").read_text().strip()
    assert f"password: {password}" in first and key in first
    hashed = admin().password

    second = seed()
    assert f"password: {password}" in second and key in second
    assert admin().password == hashed and admin().check_password(password)
    assert (var / "demo-api-key").read_text().strip() == key
    assert customer_by_api_key(key) is not None
    assert ApiKey.objects.count() == 1


def test_what_the_operator_changed_survives_the_next_start(var):
    seed()
    old_password = (var / "demo-admin-password").read_text().strip()
    key = (var / "demo-api-key").read_text().strip()
    demo = Customer.objects.get(user__username="demo")

    # The operator makes the panel theirs.
    user = admin()
    user.set_password("the operator's own passphrase")
    user.save()
    repriced, disabled, deleted = Service.objects.order_by("id")[:3]
    Service.objects.filter(pk=repriced.pk).update(rate=Decimal("9.99000"))
    Service.objects.filter(pk=disabled.pk).update(enabled=False)
    deleted.delete()
    customer_adjust(customer_id=demo.pk, amount="-40", memo="operator's correction")
    Provider.objects.update(enabled=False)
    counts = (Service.objects.count(), Customer.objects.count(), Provider.objects.count())

    out = seed()

    assert admin().check_password("the operator's own passphrase")
    assert old_password not in out
    assert "changed" in out  # says why no password is shown
    assert Service.objects.get(pk=repriced.pk).rate == Decimal("9.99000")
    assert not Service.objects.get(pk=disabled.pk).enabled
    assert not Service.objects.filter(pk=deleted.pk).exists()
    assert Customer.objects.get(pk=demo.pk).balance == Decimal("60.00000")
    assert not Provider.objects.get().enabled
    assert (Service.objects.count(), Customer.objects.count(), Provider.objects.count()) == counts
    assert key in out  # the demo key still works: it is shown


def test_a_deleted_demo_customer_or_a_revoked_key_is_not_brought_back(var):
    seed()
    key = (var / "demo-api-key").read_text().strip()
    api_key_revoke(api_key_id=ApiKey.objects.get().pk)
    out = seed()
    assert ApiKey.objects.filter(is_active=True).count() == 0
    assert key not in out and "no longer works" in out
    assert (var / "demo-api-key").read_text().strip() == key

    Customer.objects.filter(user__username="demo").update(is_active=False)
    seed()
    assert Customer.objects.count() == 1


def test_a_panel_set_up_by_its_operator_gets_no_demo(var):
    get_user_model().objects.create_superuser("boss", "boss@example.com", "boss pass 12345")
    out = seed()
    assert not Service.objects.exists() and not Customer.objects.exists()
    assert not Provider.objects.exists()
    assert not get_user_model().objects.filter(username="admin").exists()
    assert "http://127.0.0.1:8123/admin/" in out


def test_the_demo_provider_follows_the_simulator_port_unless_the_operator_moved_it(var):
    seed("9123")
    seed("9124")
    assert Provider.objects.get().api_url == "http://127.0.0.1:9124/api/v2"
    Provider.objects.update(api_url="https://real-provider.example/api/v2")
    seed("9125")
    assert Provider.objects.get().api_url == "https://real-provider.example/api/v2"


def test_a_fresh_database_reuses_the_demo_password_kept_in_var(var):
    (var / "demo-admin-password").write_text("kept-from-before\n")
    out = seed()
    assert admin().check_password("kept-from-before")
    assert "password: kept-from-before" in out


def test_a_seed_stopped_before_its_end_is_finished_by_the_next_run(var):
    # What a run stopped after the customer (its key lost) and before the admin leaves.
    customer_create(username="demo", balance="100.00")
    out = seed()
    key = (var / "demo-api-key").read_text().strip()
    assert Customer.objects.count() == 1 and key in out
    assert customer_by_api_key(key).user.username == "demo"
    assert admin().is_superuser and Service.objects.exists()


def test_the_demo_customer_can_log_in_to_the_pages_with_the_printed_password(var, client):
    printed = seed()
    password = (var / "demo-customer-password").read_text().strip()
    assert f"user: demo   password: {password}" in printed
    response = client.post("/accounts/login/", {"login": "demo", "password": password})
    assert response.status_code == 302
    assert client.get("/accounts/email/").status_code == 200
