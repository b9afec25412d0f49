"""Cryptomus: an invoice per payment over a faked HTTP edge, and callbacks signed as
Cryptomus documents: md5(base64(json_encode(body without sign, JSON_UNESCAPED_UNICODE)) + key)."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal

import httpx
import pytest
from django.urls import reverse

from smmpanel.billing.gateways import GATEWAYS, cryptomus
from smmpanel.billing.models import CallbackOutcome, EntryKind, PaymentCallback, PaymentStatus
from smmpanel.core.errors import PanelError
from tests.billing.payments import CRYPTOMUS_KEY, credits, cryptomus_callback, make_method, pay
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def fake_cryptomus(monkeypatch):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        uuid = f"inv-{len(seen):04}"
        return httpx.Response(
            200,
            json={
                "state": 0,
                "result": {"uuid": uuid, "url": f"https://pay.cryptomus.com/pay/{uuid}"},
            },
        )

    monkeypatch.setattr(GATEWAYS["cryptomus"], "transport", httpx.MockTransport(answer))
    return seen


def post(client, method, body: bytes):
    url = reverse("payment_callback", args=[method.code])
    return client.post(url, body, content_type="application/json")


def test_the_signature_is_the_one_php_json_encode_gives():
    # Written out by hand as PHP writes it: compact, "/" escaped, non-ASCII kept.
    php = '{"status":"paid","url":"https:\\/\\/e.x\\/ü","is_final":true,"n":null}'
    expected = hashlib.md5(base64.b64encode(php.encode()) + b"k").hexdigest()
    data = {"status": "paid", "url": "https://e.x/ü", "is_final": True, "n": None}
    assert cryptomus.php_json(data).decode() == php
    assert cryptomus.sign(data, "k") == expected


def test_an_invoice_is_created_signed(fake_cryptomus):
    method = make_method("cryptomus")
    customer, _ = make_customer("0")
    payment = pay(customer, method, "25")
    assert (payment.gateway_reference, payment.checkout_url) == (
        "inv-0001",
        "https://pay.cryptomus.com/pay/inv-0001",
    )
    [request] = fake_cryptomus
    assert str(request.url) == "https://api.cryptomus.com/v1/payment"
    body = json.loads(request.content)
    assert body["amount"] == "25.00" and body["order_id"] == str(payment.uid)
    assert request.headers["merchant"] == "merchant-1"
    expected = hashlib.md5(base64.b64encode(request.content) + CRYPTOMUS_KEY.encode()).hexdigest()
    assert request.headers["sign"] == expected


def test_a_paid_callback_credits_once_and_a_forged_one_nothing(client, fake_cryptomus):
    method = make_method("cryptomus", bonus_percent=D("10"), bonus_from=D("20"))
    customer, _ = make_customer("0")
    payment = pay(customer, method, "25")
    forged = cryptomus_callback(payment, key="another key")
    assert post(client, method, forged).status_code == 400
    tampered = cryptomus_callback(payment).replace(b'"25.00"', b'"2500.00"')
    assert post(client, method, tampered).status_code == 400
    for _ in range(2):
        assert post(client, method, cryptomus_callback(payment, "paid_over")).status_code == 200
    outcomes = list(PaymentCallback.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["refused", "refused", "credited", "duplicate"]
    assert credits(payment) == [(EntryKind.DEPOSIT, D("25")), (EntryKind.BONUS, D("2.50"))]


def test_a_short_payment_is_held_and_a_cancel_rejects(client, fake_cryptomus):
    method = make_method("cryptomus")
    customer, _ = make_customer("0")
    short = pay(customer, method, "25")
    post(client, method, cryptomus_callback(short, "wrong_amount"))
    short.refresh_from_db()
    assert short.status == PaymentStatus.HELD
    assert short.reason == "the gateway says: status wrong_amount"
    canceled = pay(customer, method, "25")
    post(client, method, cryptomus_callback(canceled, "cancel"))
    canceled.refresh_from_db()
    assert canceled.status == PaymentStatus.REJECTED
    post(client, method, cryptomus_callback(canceled, "confirm_check"))
    assert PaymentCallback.objects.order_by("-id")[0].outcome == CallbackOutcome.IGNORED
    assert credits(short) == credits(canceled) == []


def test_a_gateway_reusing_a_reference_leaves_the_second_payment_rejected(monkeypatch):
    same = {"state": 0, "result": {"uuid": "inv-same", "url": "https://pay.cryptomus.com/x"}}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=same))
    monkeypatch.setattr(GATEWAYS["cryptomus"], "transport", transport)
    method = make_method("cryptomus")
    customer, _ = make_customer("0")
    first = pay(customer, method, "25")
    with pytest.raises(PanelError):
        pay(customer, method, "25")
    second = customer.payments.exclude(pk=first.pk).get()
    assert second.status == PaymentStatus.REJECTED and "another payment" in second.reason
    assert first.status == PaymentStatus.PENDING
