"""Exactly once, under fire: the same callback delivered 100 times at once over real HTTP,
operators pressing Approve together, and — past every service check — concurrent
deposits for one payment refused by the database itself. Also the demo gateway end to end:
its hosted page, its signed callback over loopback, the balance credited."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from django.db import IntegrityError, transaction

from smmpanel.accounts.models import Customer
from smmpanel.billing.gateways.base import Urls
from smmpanel.billing.models import (
    CallbackOutcome,
    EntryKind,
    LedgerEntry,
    Payment,
    PaymentCallback,
    PaymentStatus,
)
from smmpanel.billing.services import customer_lock, ledger_post, payment_confirm
from smmpanel.core.errors import ConflictError
from tests.billing.payments import credits, demo_callback, make_method, pay
from tests.concurrency.race import BARRIER_TIMEOUT, race
from tests.conftest import postgres_only
from tests.factories import make_customer

D = Decimal
DELIVERIES = 100
#: Connections at once: each is a server thread with its own database connection, and the
#: PostgreSQL server (100 connections) is shared with the rest of the machine.
CLIENTS = 25


def deliver(url: str, body: bytes, headers: dict[str, str], times: int, clients: int) -> list[int]:
    """POST the same callback `times` times from `clients` connections released together."""
    barrier = threading.Barrier(clients)
    connecting = threading.Lock()

    def send(n: int) -> list[int]:
        with httpx.Client(timeout=60) as client:
            with connecting:  # connect one at a time: the test server's backlog is small
                assert client.get(url).status_code == 405
            barrier.wait(timeout=BARRIER_TIMEOUT)
            return [client.post(url, content=body, headers=headers).status_code for _ in range(n)]

    share = [times // clients + (i < times % clients) for i in range(clients)]
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return [code for codes in pool.map(send, share) for code in codes]


@postgres_only
def test_one_callback_delivered_100_times_at_once_credits_once(live_server):
    method = make_method("demo", bonus_percent=D("5"), bonus_from=D("10"))
    customer, _ = make_customer("0")
    payment = pay(customer, method, "40")
    body, headers = demo_callback(payment)
    wire = {
        "Content-Type": "application/json",
        "X-Demo-Signature": headers["HTTP_X_DEMO_SIGNATURE"],
    }

    codes = deliver(
        f"{live_server.url}/payments/callback/{method.code}", body, wire, DELIVERIES, CLIENTS
    )

    assert codes == [200] * DELIVERIES
    outcomes = list(PaymentCallback.objects.values_list("outcome", flat=True))
    assert outcomes.count(CallbackOutcome.CREDITED) == 1
    assert outcomes.count(CallbackOutcome.DUPLICATE) == DELIVERIES - 1
    assert credits(payment) == [(EntryKind.DEPOSIT, D("40")), (EntryKind.BONUS, D("2"))]
    assert Customer.objects.get(pk=customer.pk).balance == D("42")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_operators_approving_together_credit_once():
    customer, _ = make_customer("0")
    payment = pay(customer, make_method(), "15")
    results = race([lambda: payment_confirm(payment_id=payment.pk, actor="op")] * 8)
    assert sum(isinstance(r, Payment) for r in results) == 1, results
    assert all(isinstance(r, (Payment, ConflictError)) for r in results), results
    assert credits(payment) == [(EntryKind.DEPOSIT, D("15"))]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_concurrent_second_deposits_that_skip_every_check():
    customer, _ = make_customer("0")
    payment = pay(customer, make_method(), "15")

    def deposit() -> LedgerEntry:
        with transaction.atomic():
            return ledger_post(
                customer=customer_lock(customer.pk),
                kind=EntryKind.DEPOSIT,
                amount=D("15"),
                payment_id=payment.pk,
            )

    results = race([deposit] * 8)
    assert sum(isinstance(r, LedgerEntry) for r in results) == 1, results
    assert sum(isinstance(r, IntegrityError) for r in results) == 7, results
    assert Customer.objects.get(pk=customer.pk).balance == D("15")


@pytest.mark.django_db(transaction=True)
def test_the_demo_gateway_completes_through_its_page_and_a_signed_callback(live_server):
    method = make_method("demo", fee_fixed=D("0.50"), bonus_percent=D("10"), bonus_from=D("20"))
    customer, _ = make_customer("0")
    site = f"{live_server.url}/"
    urls = Urls(callback="", return_to=f"{site}?paid", site=site)
    payment = pay(customer, method, "20", urls=urls)
    with httpx.Client(base_url=live_server.url, timeout=30) as browser:
        page = browser.get(payment.checkout_url)
        assert page.status_code == 200 and "Pay 20.50 USD" in page.text
        token = browser.cookies["csrftoken"]
        done = browser.post(
            payment.checkout_url,
            data={"outcome": "pay", "csrfmiddlewaretoken": token},
            headers={"Referer": payment.checkout_url},
        )
        assert (done.status_code, done.headers["location"]) == (302, f"{site}?paid")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.COMPLETED
    kept = PaymentCallback.objects.get()
    assert kept.verified and kept.outcome == CallbackOutcome.CREDITED
    assert kept.headers["user-agent"] == "smmpanel-demo-gateway"
    assert Customer.objects.get(pk=customer.pk).balance == D("22")
