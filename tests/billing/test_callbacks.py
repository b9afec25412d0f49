"""Callbacks through the real webhook view, signed as the demo gateway signs them: what
credits, what is held for the operator and why, and what is refused — each kept verbatim."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import (
    CallbackOutcome,
    EntryKind,
    PaymentCallback,
    PaymentStatus,
)
from smmpanel.billing.services import payment_confirm, payment_reject
from tests.billing.payments import credits, demo_callback, make_method, pay
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
D = Decimal
O = CallbackOutcome  # noqa: E741


def post(client, method, body: bytes, headers: dict[str, str]):
    url = reverse("payment_callback", args=[method.code])
    return client.post(url, body, content_type="application/json", **headers)


def last_callback() -> PaymentCallback:
    return PaymentCallback.objects.order_by("-id").first()


@pytest.fixture
def demo():
    return make_method("demo", fee_percent=D("10"), bonus_percent=D("5"), bonus_from=D("10"))


@pytest.fixture
def customer():
    return make_customer("0")[0]


def balance(customer) -> Decimal:
    return Customer.objects.get(pk=customer.pk).balance


def test_a_signed_paid_callback_credits_the_amount_and_the_bonus_once(client, demo, customer):
    payment = pay(customer, demo, "10")
    assert payment.gateway_reference == f"demo_{payment.uid.hex}"
    assert payment.checkout_url == f"http://testserver/payments/demo/{payment.uid}/"
    assert payment.total == D("11.00")
    body, headers = demo_callback(payment)
    for _ in range(3):
        assert post(client, demo, body, headers).json() == {"received": True}
    assert [c.outcome for c in PaymentCallback.objects.order_by("id")] == [
        O.CREDITED,
        O.DUPLICATE,
        O.DUPLICATE,
    ]
    assert credits(payment) == [(EntryKind.DEPOSIT, D("10")), (EntryKind.BONUS, D("0.50"))]
    assert balance(customer) == D("10.50")
    kept = last_callback()
    assert bytes(kept.body) == body and kept.verified and kept.payment_id == payment.pk
    assert kept.headers["x-demo-signature"] == headers["HTTP_X_DEMO_SIGNATURE"]


def test_a_replay_a_day_later_credits_nothing_more(client, demo, customer):
    payment = pay(customer, demo, "20")
    body, headers = demo_callback(payment)
    post(client, demo, body, headers)
    with time_machine.travel(time.time() + 86400):
        # The captured callback is stale; a fresh signature of the same event is a duplicate.
        assert post(client, demo, body, headers).status_code == 400
        assert last_callback().outcome == O.REFUSED
        assert "older than five minutes" in last_callback().detail
        body, headers = demo_callback(payment)
        assert post(client, demo, body, headers).status_code == 200
        assert last_callback().outcome == O.DUPLICATE
    assert balance(customer) == D("21.00")


@pytest.mark.parametrize(
    ("forge", "detail"),
    [
        ({"secret": "not-the-secret"}, "signature does not match"),
        ({"at": int(time.time()) - 3600}, "older than five minutes"),
    ],
)
def test_forged_or_stale_signatures_credit_nothing(client, demo, customer, forge, detail):
    payment = pay(customer, demo, "10")
    body, headers = demo_callback(payment, **forge)
    assert post(client, demo, body, headers).status_code == 400
    kept = last_callback()
    assert (kept.outcome, kept.verified, kept.payment_id) == (O.REFUSED, False, None)
    assert detail in kept.detail and bytes(kept.body) == body
    assert credits(payment) == [] and payment.status == PaymentStatus.PENDING


def test_a_tampered_body_or_a_missing_signature_credits_nothing(client, demo, customer):
    payment = pay(customer, demo, "10")
    body, headers = demo_callback(payment, amount="1.00")
    tampered = body.replace(b'"1.00"', b'"11.00"')
    assert post(client, demo, tampered, headers).status_code == 400
    assert post(client, demo, body, {}).status_code == 400
    assert post(client, demo, b"\xff\xfe not json", headers).status_code == 400
    assert [c.outcome for c in PaymentCallback.objects.all()] == [O.REFUSED] * 3
    assert credits(payment) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount": "10.99"}, "paid 10.99, not 11.00"),
        ({"amount": "110.00"}, "paid 110.00, not 11.00"),
        ({"currency": "EUR"}, "paid in EUR, not USD"),
    ],
)
def test_a_wrong_amount_or_currency_holds_the_payment_for_the_operator(
    client, demo, customer, change, reason
):
    payment = pay(customer, demo, "10")
    body, headers = demo_callback(payment, **change)
    assert post(client, demo, body, headers).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.HELD and payment.reason == reason
    assert last_callback().outcome == O.HELD and credits(payment) == []
    # The right callback afterwards does not release it: the operator decides.
    body, headers = demo_callback(payment)
    post(client, demo, body, headers)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.HELD and credits(payment) == []
    payment_confirm(payment_id=payment.pk, actor="op")
    assert balance(customer) == D("10.50")


def test_a_paid_callback_for_a_rejected_payment_holds_it(client, demo, customer):
    payment = pay(customer, demo, "10")
    payment_reject(payment_id=payment.pk, actor="op", reason="customer gave up")
    body, headers = demo_callback(payment)
    post(client, demo, body, headers)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.HELD
    assert payment.reason == "paid at the gateway after it was rejected"
    assert credits(payment) == [] and balance(customer) == 0


def test_an_unknown_payment_or_another_methods_payment_is_kept_and_credits_nothing(
    client, demo, customer
):
    other = make_method("demo", code="demo-2")
    theirs = pay(customer, other, "10")
    body, headers = demo_callback(theirs)
    assert post(client, demo, body, headers).status_code == 200
    assert (last_callback().outcome, last_callback().payment_id) == (O.UNKNOWN, None)
    body, headers = demo_callback(theirs, payment="00000000-0000-4000-8000-000000000000")
    post(client, other, body, headers)
    assert last_callback().outcome == O.UNKNOWN
    assert client.post("/payments/callback/nope", b"{}", content_type="x").status_code == 400
    assert last_callback().detail == "no method 'nope'"
    assert credits(theirs) == [] and balance(customer) == 0


def test_failures_reject_a_pending_payment_and_are_ignored_after_completion(client, demo, customer):
    failed = pay(customer, demo, "10")
    body, headers = demo_callback(failed, paid=False)
    post(client, demo, body, headers)
    failed.refresh_from_db()
    assert failed.status == PaymentStatus.REJECTED and last_callback().outcome == O.REJECTED
    # Out of order: the completion arrives, then a late failure for the same payment.
    done = pay(customer, demo, "10")
    body, headers = demo_callback(done)
    post(client, demo, body, headers)
    body, headers = demo_callback(done, paid=False)
    post(client, demo, body, headers)
    done.refresh_from_db()
    assert done.status == PaymentStatus.COMPLETED and last_callback().outcome == O.IGNORED
    assert balance(customer) == D("10.50")


def test_the_webhook_takes_only_posts_of_a_sane_size(client, demo):
    url = reverse("payment_callback", args=[demo.code])
    assert client.get(url).status_code == 405
    huge = b"{" + b" " * (70 * 1024) + b"}"
    assert client.post(url, huge, content_type="application/json").status_code == 413
    assert not PaymentCallback.objects.exists()
