"""Stripe Checkout through the official library: the Checkout Session is created by the
library over a faked HTTP edge, and webhook events are signed as Stripe documents
(`Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">`) and checked by
`stripe.Webhook.construct_event`."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
from django.urls import reverse

from smmpanel.accounts.models import Customer
from smmpanel.billing.gateways import GATEWAYS
from smmpanel.billing.models import CallbackOutcome, EntryKind, PaymentCallback, PaymentStatus
from smmpanel.core.errors import ErrorCode, PanelError
from tests.billing.payments import (
    STRIPE_KEY,
    credits,
    make_method,
    pay,
    stripe_event,
    stripe_signature,
)
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
D = Decimal


class FakeStripe:
    """Stripe's HTTP edge: records each request, answers a Checkout Session."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            error = {"error": {"type": "invalid_request_error", "message": "No such price"}}
            return httpx.Response(self.status, json=error)
        n = len(self.requests)
        return httpx.Response(
            200,
            json={
                "id": f"cs_test_{n}",
                "object": "checkout.session",
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{n}",
                "payment_status": "unpaid",
            },
        )


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeStripe()
    monkeypatch.setattr(GATEWAYS["stripe"], "transport", httpx.MockTransport(fake))
    return fake


@pytest.fixture
def stripe_method():
    return make_method("stripe", fee_percent=D("2.9"), fee_fixed=D("0.30"))


def post(client, method, body: bytes, signature: str | None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    url = reverse("payment_callback", args=[method.code])
    return client.post(url, body, content_type="application/json", **headers)


def test_a_checkout_session_is_created_through_the_library(fake_stripe, stripe_method):
    customer, _ = make_customer("0")
    payment = pay(customer, stripe_method, "10")
    assert payment.gateway_reference == "cs_test_1"
    assert payment.checkout_url == "https://checkout.stripe.com/c/pay/cs_test_1"
    [request] = fake_stripe.requests
    assert (request.method, str(request.url)) == (
        "POST",
        "https://api.stripe.com/v1/checkout/sessions",
    )
    assert request.headers["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert request.headers["Idempotency-Key"] == f"smmpanel-payment-{payment.uid}"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form["mode"] == "payment"
    assert form["client_reference_id"] == str(payment.uid)
    assert form["line_items[0][price_data][unit_amount]"] == "1059"  # 10 + 2.9 % + 0.30
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["success_url"] == "http://testserver/funds/"


def test_a_refusing_stripe_leaves_the_payment_rejected_with_the_reason(monkeypatch, stripe_method):
    monkeypatch.setattr(GATEWAYS["stripe"], "transport", httpx.MockTransport(FakeStripe(400)))
    customer, _ = make_customer("0")
    with pytest.raises(PanelError) as refused:
        pay(customer, stripe_method, "10")
    assert refused.value.code == ErrorCode.PAYMENT_GATEWAY_FAILED
    [payment] = customer.payments.all()
    assert payment.status == PaymentStatus.REJECTED and "No such price" in payment.reason


def test_a_signed_completed_session_credits_once(client, fake_stripe, stripe_method):
    customer, _ = make_customer("0")
    payment = pay(customer, stripe_method, "10")
    body = stripe_event(payment)
    for _ in range(3):
        assert post(client, stripe_method, body, stripe_signature(body)).status_code == 200
    outcomes = list(PaymentCallback.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["credited", "duplicate", "duplicate"]
    assert credits(payment) == [(EntryKind.DEPOSIT, D("10"))]
    assert Customer.objects.get(pk=customer.pk).balance == D("10")


@pytest.mark.parametrize(
    "forgery", ["missing", "garbage", "other-body", "wrong-secret", "stale", "no-v1"]
)
def test_forged_tampered_or_stale_stripe_events_credit_nothing(
    client, fake_stripe, stripe_method, forgery
):
    customer, _ = make_customer("0")
    payment = pay(customer, stripe_method, "10")
    body = stripe_event(payment)
    signature = {
        "missing": None,
        "garbage": "garbage",
        "other-body": stripe_signature(b"another body"),
        "wrong-secret": stripe_signature(body, secret="whsec_other"),
        "stale": stripe_signature(body, at=int(time.time()) - 3600),
        "no-v1": stripe_signature(body).replace("v1=", "v0="),
    }[forgery]
    assert post(client, stripe_method, body, signature).status_code == 400
    kept = PaymentCallback.objects.get()
    assert (kept.outcome, kept.verified) == (CallbackOutcome.REFUSED, False)
    assert credits(payment) == []


def test_a_session_paid_for_another_amount_is_held(client, fake_stripe, stripe_method):
    customer, _ = make_customer("0")
    payment = pay(customer, stripe_method, "10")
    body = stripe_event(payment, amount_total=100)
    post(client, stripe_method, body, stripe_signature(body))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.HELD and payment.reason == "paid 1.00, not 10.59"
    assert credits(payment) == []


def test_unpaid_completion_waits_expiry_rejects_other_events_are_ignored(
    client, fake_stripe, stripe_method
):
    customer, _ = make_customer("0")
    payment = pay(customer, stripe_method, "10")
    events = [
        stripe_event(payment, payment_status="unpaid", event_id="evt_a"),
        json.dumps(
            {"id": "evt_b", "object": "event", "type": "charge.succeeded", "data": {"object": {}}}
        ).encode(),
    ]
    for body in events:
        assert post(client, stripe_method, body, stripe_signature(body)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    late = stripe_event(payment, "checkout.session.async_payment_succeeded", event_id="evt_c")
    post(client, stripe_method, late, stripe_signature(late))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.COMPLETED

    expired = pay(customer, stripe_method, "10")
    body = stripe_event(expired, "checkout.session.expired", payment_status="unpaid")
    post(client, stripe_method, body, stripe_signature(body))
    expired.refresh_from_db()
    assert expired.status == PaymentStatus.REJECTED
    assert list(PaymentCallback.objects.order_by("id").values_list("outcome", flat=True)) == [
        "ignored", "ignored", "credited", "rejected",
    ]  # fmt: skip
    assert Customer.objects.get(pk=customer.pk).balance == D("10")
