"""The worker against the real simulator over loopback: forwarding, following, refunds,
cancels, refills, and what each kind of fault must (and must not) do."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest
from django.db.models import Q

from smmpanel.billing.models import LedgerEntry
from smmpanel.catalog.models import ServiceType
from smmpanel.core.money import price
from smmpanel.fulfillment.worker import Worker
from smmpanel.orders.held import held_attach, held_refund, held_resend
from smmpanel.orders.models import ForwardState, Order, Refill
from smmpanel.orders.services import order_cancel_request, refill_request
from smmpanel.providers.models import Provider
from tests.factories import make_customer
from tests.fulfillment.conftest import PARAMS, all_final, drive, fast_config, place, service_of

pytestmark = pytest.mark.django_db


def refunds(order: Order) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(order=order, kind="refund").values_list("amount", flat=True)
    )


def test_every_type_is_forwarded_with_its_parameters_and_completes(sim, provider, worker):
    customer, _ = make_customer("1000")
    orders = {kind: place(customer, service_of(provider, kind)) for kind in PARAMS}
    drive(worker, all_final(*orders.values()))
    for kind, order in orders.items():
        order.refresh_from_db()
        assert order.status == "Completed", (kind, order.status, order.last_error)
        assert order.forward_state == ForwardState.SENT
        upstream = sim.order(order.provider_order_id)
        assert upstream["type"] == kind
        assert upstream["service"] == order.provider_service_id
        assert upstream["link"] == order.link
        sent = upstream["params"]
        for name, value in PARAMS[kind].items():
            assert sent[name].replace("\r\n", "\n") == value, (kind, name)
        assert sim.created_count(order.link) == 1
        assert order.provider_charge == Decimal(upstream["charge"])
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_drip_feed_is_forwarded_with_runs_and_interval(sim, provider, worker):
    customer, _ = make_customer("100")
    service = service_of(provider, ServiceType.DEFAULT)
    order = place(customer, service, quantity="50", runs="3", interval="1")
    drive(worker, lambda: Order.objects.get(pk=order.pk).provider_order_id is not None)
    sent = sim.order(Order.objects.get(pk=order.pk).provider_order_id)["params"]
    assert (sent["quantity"], sent["runs"], sent["interval"]) == ("50", "3", "1")


def test_drip_feed_progress_is_followed_run_by_run(sim, provider, worker):
    sim.configure(minute=0.4)  # one drip-feed "minute" lasts 0.4 s here
    customer, _ = make_customer("100")
    order = place(
        customer, service_of(provider, ServiceType.DEFAULT), quantity="50", runs="3", interval="1"
    )

    def midway() -> bool:
        o = Order.objects.get(pk=order.pk)
        return o.status == "In progress" and 0 < o.completed_runs < 3

    drive(worker, midway)
    drive(worker, all_final(order))
    order.refresh_from_db()
    assert (order.status, order.completed_runs, order.remains) == ("Completed", 3, 0)


def test_a_busy_link_upstream_waits_instead_of_failing(sim, provider, worker):
    sim.configure(start_delay=0.5)
    service = service_of(provider, ServiceType.DEFAULT)
    first = place(make_customer("10")[0], service)
    second = place(make_customer("10")[0], service, link=first.link)
    worker.run_once()
    second.refresh_from_db()
    assert second.forward_state == ForwardState.QUEUED and second.status == "Pending"
    assert "active order with this link" in second.last_error
    drive(worker, all_final(first, second))
    assert set(Order.objects.values_list("status", flat=True)) == {"Completed"}
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_partial_upstream_refunds_the_remains_to_the_cent(sim, provider, worker):
    sim.configure(partial_rate=1.0)
    customer, _ = make_customer("100")
    service = service_of(provider, ServiceType.DEFAULT)
    orders = [place(customer, service, quantity=str(q)) for q in (100, 777, 1234)]
    drive(worker, all_final(*orders))
    for order in orders:
        order.refresh_from_db()
        upstream = sim.order(order.provider_order_id)
        assert order.status == "Partial" and upstream["status"] == "Partial"
        assert order.remains == upstream["remains"] > 0
        assert refunds(order) == [price(order.rate, order.remains)]


def test_a_cancel_goes_upstream_and_refunds_in_full(sim, provider, worker):
    sim.configure(start_delay=60)  # stays Pending upstream until canceled
    customer, _ = make_customer("100")
    order = place(customer, service_of(provider, ServiceType.DEFAULT), quantity="1000")
    drive(worker, lambda: Order.objects.get(pk=order.pk).forward_state == ForwardState.SENT)
    order_cancel_request(customer=customer, order_id=order.pk)
    drive(worker, all_final(order))
    order.refresh_from_db()
    assert order.status == "Canceled" and order.cancel_sent_at is not None
    assert sim.order(order.provider_order_id)["status"] == "Canceled"
    assert refunds(order) == [order.charge]
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000")


def test_a_queued_order_is_canceled_at_once_and_never_sent(sim, provider, worker):
    customer, _ = make_customer("100")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    order_cancel_request(customer=customer, order_id=order.pk)
    worker.run_once()
    order.refresh_from_db()
    assert order.status == "Canceled" and order.provider_order_id is None
    assert order.forward_state == ForwardState.UNSENT
    assert sim.created_count(order.link) == 0


def test_a_cancel_while_a_worker_holds_the_order_is_honoured_before_sending(sim, provider, worker):
    customer, _ = make_customer("100")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    ids = worker._claim(Order, Q(forward_state=ForwardState.QUEUED), 10)  # the worker holds it
    assert ids == [order.pk]
    order_cancel_request(customer=customer, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "Pending" and order.cancel_requested_at is not None  # a request
    for claimed in worker._mine(Order, ids):
        worker.forward(claimed)
    order.refresh_from_db()
    assert (order.status, order.forward_state) == ("Canceled", ForwardState.UNSENT)
    assert refunds(order) == [order.charge]
    assert sim.stats()["requests"].get("add") is None


def test_refill_is_forwarded_and_followed(sim, provider, worker):
    sim.configure(refill_period=86400)
    customer, _ = make_customer("100")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    drive(worker, all_final(order))
    refill = refill_request(customer=customer, order_id=order.pk)
    drive(worker, lambda: Refill.objects.get(pk=refill.pk).status == "Completed", seconds=30)
    refill.refresh_from_db()
    assert refill.provider_refill_id is not None


def test_refused_by_the_provider_fails_and_refunds_in_full(sim, provider, worker):
    customer, _ = make_customer("10")
    service = service_of(provider, ServiceType.DEFAULT)
    order = place(customer, service)
    # The provider no longer knows this service id: it answers "Incorrect service ID".
    Order.objects.filter(pk=order.pk).update(provider_service_id=999_999)
    drive(worker, all_final(order))
    order.refresh_from_db()
    assert (order.status, order.forward_state) == ("Canceled", ForwardState.FAILED)
    assert "Incorrect service ID" in order.last_error
    assert refunds(order) == [order.charge]
    assert sim.created_count(order.link) == 0


def test_a_temporary_refusal_is_retried_not_refunded(sim, provider, worker):
    sim.set_faults(error=1.0, actions=("add",))  # "Service temporarily disabled"
    customer, _ = make_customer("10")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    for _ in range(3):
        worker.run_once()
    order.refresh_from_db()
    assert (order.status, order.forward_state) == ("Pending", ForwardState.QUEUED)
    assert order.attempts == 3 and not refunds(order)
    sim.set_faults()
    drive(worker, all_final(order))
    assert Order.objects.get(pk=order.pk).status == "Completed"
    assert sim.created_count(order.link) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_provider_is_retried_and_nothing_is_held(sim, provider, worker):
    good_url = provider.api_url
    Provider.objects.filter(pk=provider.pk).update(
        api_url=f"http://127.0.0.1:{_closed_port()}/api/v2"
    )
    customer, _ = make_customer("10")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    for _ in range(3):
        worker.run_once()
        worker.close()  # forget the cached client so a new URL is read next time
    order.refresh_from_db()
    assert order.forward_state == ForwardState.QUEUED and order.attempts == 3
    assert "Unreachable" in order.last_error
    assert Provider.objects.get(pk=provider.pk).last_error
    Provider.objects.filter(pk=provider.pk).update(api_url=good_url)
    drive(worker, all_final(order))
    assert Order.objects.get(pk=order.pk).status == "Completed"
    assert sim.created_count(order.link) == 1
    # It answers again: the operator no longer sees a stale error on the provider.
    assert Provider.objects.get(pk=provider.pk).last_error == ""


@pytest.mark.parametrize("fault", ["error5xx", "html", "malformed", "drop"])
def test_a_garbled_answer_to_add_is_held_never_resent(sim, provider, worker, fault):
    sim.set_faults(**{fault: 1.0}, actions=("add",))
    customer, _ = make_customer("10")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    for _ in range(3):
        worker.run_once()
    order.refresh_from_db()
    assert order.forward_state == ForwardState.HELD and order.status == "Pending"
    assert sim.stats()["requests"].get("add") == 1  # asked once, never again
    # The operator looks at the provider: it does not have it; send again.
    sim.set_faults()
    held_resend(order_id=order.pk, actor="test")
    drive(worker, all_final(order))
    assert Order.objects.get(pk=order.pk).status == "Completed"
    assert sim.created_count(order.link) == 1


def test_a_timed_out_add_that_reached_the_provider_is_held_then_attached(sim, provider, worker):
    sim.set_faults(timeout=1.0, actions=("add",))  # creates the order, then hangs
    customer, _ = make_customer("10")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    worker.run_once()
    order.refresh_from_db()
    assert order.forward_state == ForwardState.HELD
    assert sim.created_count(order.link) == 1
    upstream_id = next(int(k) for k, v in sim.stats()["orders"].items() if v["link"] == order.link)
    sim.set_faults()
    held_attach(order_id=order.pk, provider_order_id=upstream_id, actor="test")
    drive(worker, all_final(order))
    assert Order.objects.get(pk=order.pk).status == "Completed"
    assert sim.created_count(order.link) == 1


def test_a_held_order_can_be_refunded(sim, provider, worker):
    sim.set_faults(error5xx=1.0, actions=("add",))
    customer, _ = make_customer("10")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    worker.run_once()
    held_refund(order_id=order.pk, actor="test")
    order.refresh_from_db()
    assert (order.status, order.forward_state) == ("Canceled", ForwardState.FAILED)
    assert refunds(order) == [order.charge]
    worker.run_once()
    assert sim.created_count(order.link) == 0


def test_faults_while_polling_never_move_an_order_backwards(sim, provider, worker):
    customer, _ = make_customer("100")
    orders = [place(customer, service_of(provider, ServiceType.DEFAULT)) for _ in range(5)]
    drive(
        worker,
        lambda: all(
            o.forward_state == "sent" for o in Order.objects.filter(pk__in=[x.pk for x in orders])
        ),
    )
    sim.set_faults(error5xx=0.3, html=0.2, malformed=0.2, drop=0.1, actions=("status",))
    drive(worker, all_final(*orders), seconds=30)
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        assert order.status == "Completed"
        statuses = list(order.events.filter(kind="status").values_list("to_status", flat=True))
        assert statuses == sorted(statuses, key=["In progress", "Processing", "Completed"].index)


def test_a_worker_that_died_while_sending_leaves_a_held_order(sim, provider):
    customer, _ = make_customer("10")
    order = place(customer, service_of(provider, ServiceType.DEFAULT))
    from datetime import timedelta

    from django.utils import timezone

    # What a killed worker leaves: marked as sending, its lease run out.
    Order.objects.filter(pk=order.pk).update(
        forward_state=ForwardState.SENDING,
        lease_owner="dead-worker",
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    survivor = Worker(name="survivor", config=fast_config())
    survivor.run_once()
    survivor.close()
    order.refresh_from_db()
    assert order.forward_state == ForwardState.HELD
    assert sim.created_count(order.link) == 0  # the survivor did not resend it


@pytest.mark.django_db(transaction=True)
def test_a_worker_sends_from_several_threads_each_order_once(sim, provider):
    customer, _ = make_customer("1000")
    service = service_of(provider, ServiceType.DEFAULT)
    orders = [place(customer, service) for _ in range(24)]
    threaded = Worker(name="threaded", config=fast_config(send_concurrency=6))
    try:
        drive(threaded, all_final(*orders))
    finally:
        threaded.close()
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        assert order.status == "Completed" and order.forward_state == ForwardState.SENT
        assert sim.created_count(order.link) == 1
    assert len({o.provider_order_id for o in Order.objects.all()}) == 24
