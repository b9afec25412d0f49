"""The `smmpanel` console commands, run through Django's command machinery."""

from __future__ import annotations

import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from smmpanel.accounts.models import Customer
from smmpanel.accounts.selectors import customer_by_api_key
from smmpanel.billing.models import LedgerEntry
from smmpanel.catalog.models import Service, ServiceType
from smmpanel.core.money import price
from smmpanel.orders.models import ForwardState, Order, OrderEvent
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place
from smmpanel.providers.models import Provider
from tests.factories import make_customer, make_service
from tests.fulfillment.conftest import all_final, drive, place, service_of

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_customer_create_prints_a_working_key_and_books_the_opening_balance():
    out, _ = run("customer_create", "--username", "ann", "--balance", "100.00")
    key = out.strip()
    assert len(key) == 32
    customer = customer_by_api_key(key)
    assert customer is not None and customer.user.username == "ann"
    assert customer.balance == Decimal("100.00000")
    assert customer.ledger_entries.get().kind == "deposit"


def test_customer_create_refuses_a_taken_username_and_a_bad_amount():
    run("customer_create", "--username", "ann")
    with pytest.raises(CommandError, match="taken"):
        run("customer_create", "--username", "ann")
    with pytest.raises(CommandError):
        run("customer_create", "--username", "bob", "--balance", "ten")
    assert not Customer.objects.filter(user__username="bob").exists()


def test_cli_accepts_hyphenated_command_names():
    # The installed console script itself, as an operator types it.
    script = Path(sys.executable).with_name("smmpanel")
    done = subprocess.run(
        [str(script), "customer-create", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--username" in done.stdout and "API key" in done.stdout


def test_deposit_and_adjust_go_through_the_ledger():
    customer, _ = make_customer("1", username="dan")
    run("customer_deposit", "--username", "dan", "--amount", "2.5")
    run("customer_deposit", "--username", "dan", "--amount", "-0.5", "--adjust", "--memo", "fix")
    customer.refresh_from_db()
    assert customer.balance == Decimal("3.00000")
    with pytest.raises(CommandError):
        run("customer_deposit", "--username", "dan", "--amount", "-10", "--adjust", "--memo", "x")
    with pytest.raises(CommandError):
        run("customer_deposit", "--username", "dan", "--amount", "-1")


def test_order_set_fulfils_by_hand_with_refunds():
    customer, _ = make_customer("10")
    service = make_service(rate="2.00", min=10, max=1000)
    order = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(link="https://a.b/c", quantity=500),
    )
    run("order_set", str(order.pk), "start", "--start-count", "120")
    run("order_set", str(order.pk), "progress", "--remains", "300")
    run("order_set", str(order.pk), "partial", "--remains", "200")
    order.refresh_from_db()
    customer.refresh_from_db()
    assert (order.status, order.start_count, order.remains) == ("Partial", 120, 200)
    # 10 - 1.00 charged + 0.40 refunded (200 x 2.00 / 1000)
    assert customer.balance == Decimal("9.40000")
    with pytest.raises(CommandError):
        run("order_set", str(order.pk), "cancel")


def test_ledger_verify_command_reports_a_tampered_balance():
    customer, _ = make_customer("10")
    assert "adds up" in run("ledger_verify")[0]
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("12"))
    with pytest.raises(CommandError, match="1 problem"):
        run("ledger_verify")
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("10"))


def test_demo_seed_covers_every_type_and_is_idempotent(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out1, _ = run("demo_seed", "--port", "8123", "--simulator-port", "9123")
    key = (tmp_path / "demo-api-key").read_text().strip()
    assert key in out1 and "http://127.0.0.1:8123/admin/" in out1
    assert set(Service.objects.filter(enabled=True).values_list("type", flat=True)) == set(
        ServiceType.values
    )
    default = Service.objects.filter(type=ServiceType.DEFAULT).order_by("id").first()
    assert default.refill and default.cancel and default.dripfeed
    provider = Provider.objects.get(name="Simulator")
    assert provider.api_url == "http://127.0.0.1:9123/api/v2"
    assert provider.api_key() == "sim-key"
    linked = Service.objects.filter(provider=provider)
    assert linked.filter(type=ServiceType.SUBSCRIPTIONS).exists()  # bought from the provider
    by_hand = Service.objects.filter(type=ServiceType.SUBSCRIPTIONS, provider=None)
    assert by_hand.exists()  # and one the operator fulfils
    # Drip-feed on every Default service; the provider's own only where it takes it.
    views = linked.get(provider_service_id=3)
    assert views.dripfeed and not views.provider_dripfeed
    assert all(s.rate > s.provider_rate for s in linked)  # sold at a markup
    demo = customer_by_api_key(key)
    assert demo is not None and demo.balance == Decimal("100.00000")

    count = Service.objects.count()
    run("demo_seed", "--port", "8123", "--simulator-port", "9124")
    assert (tmp_path / "demo-api-key").read_text().strip() == key
    assert Service.objects.count() == count
    assert Customer.objects.count() == 1
    assert Provider.objects.get().api_url == "http://127.0.0.1:9124/api/v2"
    assert (tmp_path / "demo-admin-password").stat().st_mode & 0o077 == 0
    assert not Order.objects.exists()


# -- orders and subscriptions at a provider, from the console ---------------------------------


def _at_provider(sim, provider, worker) -> Order:
    sim.configure(start_delay=60)  # accepted there, not started for a minute
    customer, _ = make_customer("10")
    order = place(customer, service_of(provider, ServiceType.DEFAULT), quantity="1000")
    drive(worker, lambda: Order.objects.get(pk=order.pk).forward_state == ForwardState.SENT)
    return Order.objects.get(pk=order.pk)


def refunds(order: Order) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(order=order, kind="refund").values_list("amount", flat=True)
    )


@pytest.mark.parametrize("step", ["complete", "partial", "start", "processing", "progress"])
def test_order_set_by_hand_on_an_order_at_a_provider_is_refused(sim, provider, worker, step):
    order = _at_provider(sim, provider, worker)
    with pytest.raises(CommandError, match="settle-"):
        run("order_set", str(order.pk), step, "--remains", "400")
    assert Order.objects.get(pk=order.pk).status == "Pending" and refunds(order) == []


def test_order_set_cancel_of_an_order_at_a_provider_goes_through_its_cancel(sim, provider, worker):
    order = _at_provider(sim, provider, worker)
    out, _ = run("order_set", str(order.pk), "cancel")
    assert "cancel requested" in out
    assert Order.objects.get(pk=order.pk).status == "Pending" and refunds(order) == []
    drive(worker, all_final(order))
    order.refresh_from_db()
    assert order.status == "Canceled" and refunds(order) == [order.charge]
    assert sim.order(order.provider_order_id)["status"] == "Canceled"
    assert OrderEvent.objects.get(order=order, kind="cancel_requested").actor == "console"


def test_order_set_settle_needs_a_reason_and_tells_the_provider_nothing(sim, provider, worker):
    order = _at_provider(sim, provider, worker)
    with pytest.raises(CommandError, match="reason"):
        run("order_set", str(order.pk), "settle-partial", "--remains", "400")
    with pytest.raises(CommandError, match="remains"):
        run("order_set", str(order.pk), "settle-partial", "--reason", "checked")
    assert Order.objects.get(pk=order.pk).status == "Pending"
    why = "the provider delivered 600, then its service closed"
    out, _ = run("order_set", str(order.pk), "settle-partial", "--remains", "400", "--reason", why)
    assert "Partial" in out
    order.refresh_from_db()
    assert (order.status, order.remains) == ("Partial", 400)
    assert refunds(order) == [price(order.rate, 400)]
    event = OrderEvent.objects.get(order=order, kind="status", to_status="Partial")
    assert (event.actor, event.data["reason"], event.data["without_provider"]) == (
        "console", why, True,
    )  # fmt: skip
    worker.run_once()
    assert "cancel" not in sim.stats()["requests"]
    assert sim.order(order.provider_order_id)["status"] == "Pending"


def _subscription_at_provider(sim, provider, worker) -> Order:
    sim.configure(post_interval=3600)  # no post meanwhile: only the commands matter here
    customer, _ = make_customer("100")
    sub = order_place(
        customer=customer,
        service_id=Service.objects.get(provider=provider, provider_service_id=16).pk,
        params=OrderRequest(username="console.star", min=100, max=300, delay=0),
    )
    drive(worker, lambda: Order.objects.get(pk=sub.pk).forward_state == ForwardState.SENT)
    return Order.objects.get(pk=sub.pk)


def _upstream_status(sim, provider_order_id: int | None) -> str:
    assert provider_order_id is not None
    return str(sim.order(provider_order_id)["status"])


def test_order_set_pauses_resumes_and_expires_a_subscription_at_its_provider(sim, provider, worker):
    sub = _subscription_at_provider(sim, provider, worker)
    first = sub.provider_order_id
    run("order_set", str(sub.pk), "pause")
    # API v2 has no pause: the provider's subscription is canceled there.
    drive(worker, lambda: _upstream_status(sim, first) == "Canceled", seconds=5)
    sub.refresh_from_db()
    assert (sub.status, sub.paused_for) == ("Paused", "operator")

    run("order_set", str(sub.pk), "resume")
    assert Order.objects.get(pk=sub.pk).status == "Active"
    # Placed anew at the provider, for the posts still to come.
    drive(worker, lambda: Order.objects.get(pk=sub.pk).provider_order_id not in (None, first))
    again = Order.objects.get(pk=sub.pk).provider_order_id
    assert _upstream_status(sim, again) == "Active"

    run("order_set", str(sub.pk), "expire")
    assert Order.objects.get(pk=sub.pk).status == "Expired"
    drive(worker, lambda: _upstream_status(sim, again) == "Canceled")


def test_order_set_stops_a_subscription_at_its_provider(sim, provider, worker):
    sub = _subscription_at_provider(sim, provider, worker)
    run("order_set", str(sub.pk), "stop")
    assert Order.objects.get(pk=sub.pk).status == "Canceled"
    drive(worker, lambda: _upstream_status(sim, sub.provider_order_id) == "Canceled")
    with pytest.raises(CommandError, match="finished"):
        run("order_set", str(sub.pk), "cancel")


@pytest.mark.parametrize("step", ["complete", "start", "partial"])
def test_order_set_of_an_order_step_on_a_subscription_is_refused(step):
    customer, _ = make_customer("10")
    service = make_service(type=ServiceType.SUBSCRIPTIONS, rate="1.00", min=10, max=500)
    sub = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(username="star", min=100, max=200, delay=0),
    )
    with pytest.raises(CommandError, match="subscription"):
        run("order_set", str(sub.pk), step, "--remains", "1")
    assert Order.objects.get(pk=sub.pk).status == "Active"
