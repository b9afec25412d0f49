"""The operator's side, through the admin's real HTTP: approving and rejecting payments go
through the same services as the gateways, so a second press credits nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import EntryKind, PaymentMethod, PaymentStatus
from tests.billing.payments import credits, demo_callback, make_method, pay
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("op", "op@example.com", "pw-op-12345")
    client.force_login(user)
    return client


def act(client, action: str, ids: list[int], **extra: str):
    url = reverse("admin:billing_payment_changelist")
    return client.post(
        url, {"action": action, "_selected_action": [str(i) for i in ids], **extra}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_approving_credits_once_with_the_bonus_however_often_it_is_pressed(operator):
    method = make_method(bonus_percent=D("5"), bonus_from=D("50"))
    customer, _ = make_customer("0")
    payment = pay(customer, method, "100", payer_reference="IBAN transfer 77")
    assert (
        "IBAN transfer 77"
        in operator.get(reverse("admin:billing_payment_changelist")).content.decode()
    )

    first = act(operator, "approve", [payment.pk])
    assert messages_of(first) == ["Approve: 1 done."]
    again = act(operator, "approve", [payment.pk])
    assert "nothing to credit" in messages_of(again)[0]
    assert credits(payment) == [(EntryKind.DEPOSIT, D("100")), (EntryKind.BONUS, D("5"))]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.COMPLETED and "operator op" in payment.reason
    assert Customer.objects.get(pk=customer.pk).balance == D("105")


def test_rejecting_records_why_and_credits_nothing(operator):
    customer, _ = make_customer("0")
    method = make_method()
    payment, other = pay(customer, method), pay(customer, method)
    response = act(operator, "reject", [payment.pk, other.pk], memo="no such transfer")
    assert messages_of(response) == ["Reject: 2 done."]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED
    assert payment.reason == "rejected by operator op: no such transfer"
    assert "nothing to credit" in messages_of(act(operator, "approve", [payment.pk]))[0]
    assert credits(payment) == [] and Customer.objects.get(pk=customer.pk).balance == 0


def test_a_held_payment_shows_its_callbacks_and_is_released_by_approval(operator, client):
    method = make_method("demo")
    customer, _ = make_customer("0")
    payment = pay(customer, method, "10")
    body, headers = demo_callback(payment, amount="9.00")
    client.post(
        reverse("payment_callback", args=[method.code]),
        body,
        content_type="application/json",
        **headers,
    )
    page = operator.get(reverse("admin:billing_payment_change", args=[payment.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "paid 9.00, not 10.00" in html and "&quot;amount&quot;: &quot;9.00&quot;" in html
    for name in ("billing_paymentcallback", "billing_paymentmethod", "billing_payment"):
        assert operator.get(reverse(f"admin:{name}_changelist")).status_code == 200
    act(operator, "approve", [payment.pk])
    assert credits(payment) == [(EntryKind.DEPOSIT, D("10"))]


def test_a_methods_secrets_are_written_encrypted_and_never_shown(operator):
    response = operator.post(
        reverse("admin:billing_paymentmethod_add"),
        {
            "code": "card",
            "name": "Card",
            "gateway": "stripe",
            "enabled": "on",
            "min_amount": "5",
            "fee_percent": "2.9",
            "fee_fixed": "0.30",
            "bonus_percent": "0",
            "bonus_from": "0",
            "config": "{}",
            "secrets": "secret_key=sk_live_abc\nwebhook_secret=whsec_xyz",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    method = PaymentMethod.objects.get(code="card")
    assert method.secrets() == {"secret_key": "sk_live_abc", "webhook_secret": "whsec_xyz"}
    assert "sk_live_abc" not in method.secrets_encrypted
    page = operator.get(reverse("admin:billing_paymentmethod_change", args=[method.pk]))
    assert "sk_live_abc" not in page.content.decode()
    # Saving without secrets keeps the ones set.
    form = {
        "code": "card", "name": "Card 2", "gateway": "stripe", "enabled": "on",
        "min_amount": "5", "fee_percent": "2.9", "fee_fixed": "0.30", "bonus_percent": "0",
        "bonus_from": "0", "config": "{}", "secrets": "",
    }  # fmt: skip
    operator.post(reverse("admin:billing_paymentmethod_change", args=[method.pk]), form)
    method.refresh_from_db()
    assert method.name == "Card 2" and method.secrets()["secret_key"] == "sk_live_abc"
