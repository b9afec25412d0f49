"""The admin is the operator's console: its actions must call the services, with refunds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from smmpanel.billing.models import LedgerEntry
from smmpanel.catalog.models import ServiceType
from smmpanel.core.money import price
from smmpanel.orders.models import ForwardState, Order, OrderEvent, Refill
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place, order_transition, refill_request
from smmpanel.orders.states import OrderStatus
from tests.factories import make_customer, make_service
from tests.fulfillment.conftest import all_final, drive, place, service_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("op", "op@example.com", "pw-op-12345")
    client.force_login(user)
    return client


def _order(balance: str = "10", quantity: str = "1000"):
    customer, _ = make_customer(balance)
    service = make_service(rate="1.00", min=10, max=5000)
    order = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(link=f"https://e.x/{Order.objects.count()}", quantity=int(quantity)),
    )
    return customer, order


def _act(client, model: str, action: str, ids: list[int], **extra: str):
    url = reverse(f"admin:{model}_changelist")
    return client.post(
        url, {"action": action, "_selected_action": [str(i) for i in ids], **extra}, follow=True
    )


def test_every_model_has_an_admin_page(operator):
    for name in (
        "accounts_customer", "accounts_apikey", "catalog_category", "catalog_service",
        "billing_ledgerentry", "orders_order", "orders_refill", "orders_orderevent",
    ):  # fmt: skip
        assert operator.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_partial_action_refunds_the_remains_once(operator):
    customer, order = _order()
    _act(operator, "orders_order", "start", [order.pk], start_count="50")
    response = _act(operator, "orders_order", "partial", [order.pk], remains="250")
    assert b"Mark Partial: 1 done" in response.content
    order.refresh_from_db()
    customer.refresh_from_db()
    assert order.status == OrderStatus.PARTIAL and order.start_count == 50
    assert customer.balance == Decimal("9.25000")  # 10 - 1.00 + 0.25
    response = _act(operator, "orders_order", "cancel", [order.pk])
    assert b"refused" in response.content
    assert LedgerEntry.objects.filter(order=order, kind="refund").count() == 1


def test_cancel_action_refunds_everything(operator):
    customer, order = _order()
    _act(operator, "orders_order", "cancel", [order.pk])
    customer.refresh_from_db()
    assert customer.balance == Decimal("10.00000")


def test_partial_without_remains_is_refused_and_changes_nothing(operator):
    _, order = _order()
    response = _act(operator, "orders_order", "partial", [order.pk])
    assert b"needs the quantity" in response.content
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_refill_actions(operator):
    customer, order = _order()
    order_transition(order_id=order.pk, to=OrderStatus.COMPLETED, actor="test")
    refill = refill_request(customer=customer, order_id=order.pk)
    _act(operator, "orders_refill", "accept", [refill.pk])
    _act(operator, "orders_refill", "complete", [refill.pk])
    assert Refill.objects.get(pk=refill.pk).status == "Completed"


def test_deposit_action_and_ledger_is_read_only(operator):
    customer, _ = make_customer("0")
    _act(operator, "accounts_customer", "deposit", [customer.pk], amount="12.5", memo="wire")
    customer.refresh_from_db()
    assert customer.balance == Decimal("12.50000")
    entry = LedgerEntry.objects.get(customer=customer)
    url = reverse("admin:billing_ledgerentry_change", args=[entry.pk])
    page = operator.get(url)
    assert page.status_code == 200 and b'name="amount"' not in page.content
    assert operator.post(url, {"amount": "999"}).status_code == 403


def test_new_api_key_action_shows_the_key_once(operator):
    customer, _ = make_customer("0")
    response = _act(operator, "accounts_customer", "new_api_key", [customer.pk])
    assert b"will not be shown again" in response.content
    assert customer.api_keys.count() == 2


def _subscription(balance: str = "10"):
    from smmpanel.catalog.models import ServiceType

    customer, _ = make_customer(balance)
    service = make_service(type=ServiceType.SUBSCRIPTIONS, rate="1.00", min=10, max=500)
    order = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(username="star", min=100, max=200, delay=0),
    )
    return customer, order


def test_subscription_actions_post_pause_resume_stop(operator):
    customer, sub = _subscription()
    response = _act(
        operator, "orders_order", "subscription_post", [sub.pk],
        post_link="https://instagram.com/p/one", quantity="150",
    )  # fmt: skip
    assert b"Post: 1 done" in response.content
    [child] = Order.objects.filter(parent=sub)
    assert (child.charged_quantity, child.charge) == (150, Decimal("0.15000"))
    _act(operator, "orders_order", "subscription_pause", [sub.pk])
    assert Order.objects.get(pk=sub.pk).status == "Paused"
    response = _act(
        operator, "orders_order", "subscription_post", [sub.pk],
        post_link="https://instagram.com/p/two", quantity="150",
    )  # fmt: skip
    assert b"refused" in response.content
    _act(operator, "orders_order", "subscription_resume", [sub.pk])
    assert Order.objects.get(pk=sub.pk).status == "Active"
    _act(operator, "orders_order", "subscription_stop", [sub.pk])
    assert Order.objects.get(pk=sub.pk).status == "Canceled"
    customer.refresh_from_db()
    assert customer.balance == Decimal("9.85000")


def test_cancel_action_on_a_drip_feed_stops_its_runs(operator):
    from smmpanel.fulfillment.worker import Worker
    from tests.fulfillment.conftest import fast_config

    customer, _ = make_customer("10")
    service = make_service(rate="1.00", min=10, max=5000, dripfeed=True)
    order = order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(link="https://e.x/drip", quantity=100, runs=3, interval=60),
    )
    worker = Worker(name="admin-test", config=fast_config())
    worker.dripfeed_pass()
    [run] = Order.objects.filter(parent=order)
    response = _act(operator, "orders_order", "cancel", [order.pk])
    assert b"Cancel: 1 done" in response.content
    order_transition(order_id=run.pk, to=OrderStatus.COMPLETED, actor="test")
    worker.dripfeed_pass()
    worker.close()
    order.refresh_from_db()
    assert (order.status, order.remains) == ("Partial", 200)
    page = operator.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert b"Runs and post orders" in page.content  # the runs, listed under their parent


# -- orders held by a provider: the operator goes through it, or settles explicitly ----------


def refunds(order: Order) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(order=order, kind="refund").values_list("amount", flat=True)
    )


@pytest.fixture
def at_provider(sim, provider, worker):
    """An order the simulator has accepted and will not start for a minute."""
    sim.configure(start_delay=60)
    customer, _ = make_customer("10")
    order = place(customer, service_of(provider, ServiceType.DEFAULT), quantity="1000")
    drive(worker, lambda: Order.objects.get(pk=order.pk).forward_state == ForwardState.SENT)
    order.refresh_from_db()
    return customer, order


def test_cancel_of_an_order_at_a_provider_asks_the_provider_and_settles_on_its_answer(
    operator, sim, worker, at_provider
):
    customer, order = at_provider
    response = _act(operator, "orders_order", "cancel", [order.pk])
    assert b"Cancel: 1 done" in response.content
    order.refresh_from_db()
    # Not canceled here yet, and nothing refunded: the provider may still deliver.
    assert order.status == "Pending" and order.cancel_requested_at is not None
    assert refunds(order) == []
    request = OrderEvent.objects.get(order=order, kind="cancel_requested")
    assert request.actor == "admin:op"
    drive(worker, all_final(order))
    order.refresh_from_db()
    assert order.status == "Canceled" and order.cancel_sent_at is not None
    assert sim.order(order.provider_order_id)["status"] == "Canceled"
    assert refunds(order) == [order.charge]
    customer.refresh_from_db()
    assert customer.balance == Decimal("10.00000")


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("complete", {}),
        ("partial", {"remains": "400"}),
        ("start", {"start_count": "7"}),
        ("progress", {"remains": "400"}),
    ],
)
def test_hand_fulfilment_of_an_order_at_a_provider_is_refused(
    operator, sim, worker, at_provider, action, fields
):
    _, order = at_provider
    response = _act(operator, "orders_order", action, [order.pk], **fields)
    assert b"refused" in response.content
    assert b"Settle without telling the provider" in response.content
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.status, fresh.remains, fresh.start_count) == (
        "Pending", order.remains, order.start_count,
    )  # fmt: skip
    assert refunds(order) == []


def test_settle_without_telling_the_provider_takes_a_reason_and_records_it(
    operator, sim, worker, at_provider
):
    _, order = at_provider
    page = _act(operator, "orders_order", "settle", [order.pk])
    assert page.status_code == 200
    assert b"without telling the provider" in page.content
    assert str(order.provider_order_id).encode() in page.content  # what the operator checks
    settle = {"apply": "1", "outcome": "Partial", f"remains_{order.pk}": "400"}

    refused = _act(operator, "orders_order", "settle", [order.pk], **settle, reason="  ")
    assert b"Give the reason" in refused.content
    assert b'value="400"' in refused.content  # what was typed is kept
    assert Order.objects.get(pk=order.pk).status == "Pending" and refunds(order) == []

    why = "the provider delivered 600 and stopped; seen on its site"
    done = _act(operator, "orders_order", "settle", [order.pk], **settle, reason=why)
    assert b"Settle: 1 done" in done.content
    order.refresh_from_db()
    assert (order.status, order.remains) == ("Partial", 400)
    assert refunds(order) == [price(order.rate, 400)]
    event = OrderEvent.objects.get(order=order, kind="status", to_status="Partial")
    assert event.actor == "admin:op"
    assert event.data["reason"] == why and event.data["without_provider"] is True
    # The provider was told nothing, and the worker leaves the order alone from now on.
    worker.run_once()
    assert sim.order(order.provider_order_id)["status"] == "Pending"
    assert "cancel" not in sim.stats()["requests"]
    assert Order.objects.get(pk=order.pk).status == "Partial"


@pytest.mark.parametrize(
    ("outcome", "remains", "refunded"), [("Completed", 0, False), ("Canceled", 1000, True)]
)
def test_settle_completed_or_canceled(operator, at_provider, outcome, remains, refunded):
    _, order = at_provider
    response = _act(
        operator, "orders_order", "settle", [order.pk],
        apply="1", outcome=outcome, reason="agreed with the provider by e-mail",
    )  # fmt: skip
    assert b"Settle: 1 done" in response.content
    order.refresh_from_db()
    assert (order.status, order.remains) == (outcome, remains)
    assert refunds(order) == ([order.charge] if refunded else [])


# -- held orders: one provider order per order; a customer's cancel honoured on settling -----


def _held_at_provider(sim, provider, worker, customer, n: int = 1) -> list[Order]:
    """Orders whose `add` reached the provider but whose answer never came back: held."""
    sim.set_faults(timeout=1.0, actions=("add",))
    orders = [place(customer, service_of(provider, ServiceType.DEFAULT)) for _ in range(n)]
    worker.run_once()
    sim.set_faults()
    held = list(Order.objects.filter(pk__in=[o.pk for o in orders]).order_by("id"))
    assert [o.forward_state for o in held] == [ForwardState.HELD] * n
    return held


def _upstream_id(sim, order: Order) -> int:
    [number] = [int(k) for k, v in sim.stats()["orders"].items() if v["link"] == order.link]
    return number


def test_one_provider_order_id_is_attached_to_one_order_only(operator, sim, provider, worker):
    sim.configure(partial_rate=1.0)
    customer, _ = make_customer("10")
    held = _held_at_provider(sim, provider, worker, customer, n=3)
    number = _upstream_id(sim, held[0])
    response = _act(
        operator, "orders_order", "held_attach", [o.pk for o in held],
        provider_order_id=str(number),
    )  # fmt: skip
    assert b"Attach: 1 done" in response.content
    [winner] = Order.objects.filter(provider_order_id=number)
    others = [o for o in held if o.pk != winner.pk]
    for other in others:
        refusal = f"Attach refused #{other.pk}: Provider order {number} already belongs to order"
        assert f"{refusal} #{winner.pk}".encode() in response.content
        assert Order.objects.get(pk=other.pk).forward_state == ForwardState.HELD
    drive(worker, all_final(winner))
    # One delivery, one refund: the other two still wait for the operator, unrefunded.
    assert Order.objects.get(pk=winner.pk).status == "Partial"
    assert len(refunds(winner)) == 1
    assert [refunds(o) for o in others] == [[], []]
    assert [Order.objects.get(pk=o.pk).status for o in others] == ["Pending", "Pending"]


def test_a_customer_cancel_of_a_held_order_the_provider_never_got(api, operator, sim, provider):
    from smmpanel.fulfillment.worker import Worker
    from tests.fulfillment.conftest import fast_config

    _, key = make_customer("10")
    service = service_of(provider, ServiceType.DEFAULT)
    order_id = api(key, "add", service=service.pk, link="https://e.x/held", quantity="100")["order"]
    # What a worker killed while sending leaves behind: the operator must decide.
    Order.objects.filter(pk=order_id).update(
        forward_state=ForwardState.SENDING, lease_owner="dead", lease_until=timezone.now()
    )
    survivor = Worker(name="survivor", config=fast_config())
    survivor.run_once()
    assert Order.objects.get(pk=order_id).forward_state == ForwardState.HELD

    assert api(key, "cancel", orders=str(order_id)) == [{"order": order_id, "cancel": 1}]
    reply = api(key, "status", order=str(order_id))
    assert (reply["status"], reply["remains"], reply["start_count"]) == ("Pending", "100", "0")
    # The operator sees the request on the held order.
    listed = operator.get(
        reverse("admin:orders_order_changelist"), {"forward_state__exact": "held"}
    )
    assert b"cancel asked" in listed.content
    page = operator.get(reverse("admin:orders_order_change", args=[order_id]))
    assert b"cancel_requested" in page.content

    # The provider does not have it: "send again" must not send it, but cancel it.
    response = _act(operator, "orders_order", "held_resend", [order_id])
    assert b"Resend: 1 done" in response.content
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.forward_state) == ("Canceled", ForwardState.UNSENT)
    assert refunds(order) == [order.charge]
    survivor.run_once()
    survivor.close()
    assert sim.created_count("https://e.x/held") == 0
    assert api(key, "status", order=str(order_id))["status"] == "Canceled"
    assert api(key, "balance")["balance"] == "10.00000"


def test_a_customer_cancel_of_a_held_order_goes_to_the_provider_once_attached(
    api, operator, sim, provider, worker
):
    sim.configure(start_delay=60)
    customer, key = make_customer("10")
    [order] = _held_at_provider(sim, provider, worker, customer)
    assert api(key, "cancel", order=str(order.pk)) == [{"order": order.pk, "cancel": 1}]
    worker.run_once()
    assert api(key, "status", order=str(order.pk))["status"] == "Pending"

    number = _upstream_id(sim, order)
    response = _act(
        operator, "orders_order", "held_attach", [order.pk], provider_order_id=str(number)
    )
    assert b"Attach: 1 done" in response.content
    assert b"the provider&#x27;s cancel goes out" in response.content
    drive(worker, all_final(order))
    order.refresh_from_db()
    assert (order.status, order.provider_order_id) == ("Canceled", number)
    assert sim.order(number)["status"] == "Canceled"
    assert refunds(order) == [order.charge]
    assert api(key, "status", order=str(order.pk))["status"] == "Canceled"
