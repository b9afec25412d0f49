"""Builders for payment tests: methods of each gateway, payments through the services, and
callbacks signed the way each gateway signs them."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from smmpanel.accounts.models import Customer
from smmpanel.billing.gateways import cryptomus, demo
from smmpanel.billing.gateways.base import Urls
from smmpanel.billing.models import LedgerEntry, Payment, PaymentMethod
from smmpanel.billing.services import payment_create

DEMO_SECRET = "demo-signing-secret"
STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
STRIPE_KEY = "sk_test_123"
CRYPTOMUS_KEY = "cryptomus-payment-key"
URLS = Urls(
    callback="http://testserver/payments/callback/x",
    return_to="http://testserver/funds/",
    site="http://testserver/",
)


def make_method(gateway: str = "manual", code: str | None = None, **fields: Any) -> PaymentMethod:
    secrets = {
        "demo": {"signing_secret": DEMO_SECRET},
        "stripe": {"secret_key": STRIPE_KEY, "webhook_secret": STRIPE_WEBHOOK_SECRET},
        "cryptomus": {"payment_key": CRYPTOMUS_KEY},
    }.get(gateway, {})
    config = {"merchant_id": "merchant-1"} if gateway == "cryptomus" else {}
    method = PaymentMethod(
        code=code or gateway, name=f"{gateway} method", gateway=gateway, config=config, **fields
    )
    method.set_secrets(secrets)
    method.save()
    return method


def pay(customer: Customer, method: PaymentMethod, amount: str = "10", **kw: Any) -> Payment:
    if method.gateway == "manual":
        kw.setdefault("payer_reference", "TRX-1")
    return payment_create(
        customer=customer, method_id=method.pk, amount=amount, urls=kw.pop("urls", URLS), **kw
    )


def credits(payment: Payment) -> list[tuple[str, Decimal]]:
    return list(
        LedgerEntry.objects.filter(payment=payment).order_by("id").values_list("kind", "amount")
    )


def demo_callback(
    payment: Payment,
    /,
    *,
    paid: bool = True,
    amount: str | None = None,
    currency: str | None = None,
    secret: str = DEMO_SECRET,
    at: int | None = None,
    **extra: Any,
) -> tuple[bytes, dict[str, str]]:
    data = json.loads(demo.demo_callback_body(payment, paid=paid))
    if amount is not None:
        data["amount"] = amount
    if currency is not None:
        data["currency"] = currency
    data.update(extra)  # e.g. payment=<another uid>
    body = json.dumps(data).encode()
    return body, {"HTTP_X_DEMO_SIGNATURE": demo.sign(body, secret, at)}


def stripe_signature(body: bytes, secret: str = STRIPE_WEBHOOK_SECRET, at: int | None = None):
    """As Stripe documents it: t=<timestamp>,v1=<HMAC-SHA256 of "<t>.<body>">."""
    import hashlib
    import hmac

    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def stripe_event(
    payment: Payment,
    kind: str = "checkout.session.completed",
    *,
    amount_total: int | None = None,
    currency: str | None = None,
    payment_status: str = "paid",
    event_id: str = "evt_1",
) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": payment.gateway_reference,
                    "object": "checkout.session",
                    "client_reference_id": str(payment.uid),
                    "amount_total": (
                        int(payment.total * 100) if amount_total is None else amount_total
                    ),
                    "currency": (currency or payment.currency).lower(),
                    "payment_status": payment_status,
                    "status": "complete",
                }
            },
        }
    ).encode()


def cryptomus_callback(
    payment: Payment, status: str = "paid", *, amount: str | None = None, key: str = CRYPTOMUS_KEY
) -> bytes:
    data = {
        "type": "payment",
        "uuid": payment.gateway_reference,
        "order_id": str(payment.uid),
        "amount": amount or f"{payment.total:.2f}",
        "payment_amount": "0.00",
        "merchant_amount": "0.00",
        "commission": "0.00",
        "is_final": True,
        "status": status,
        "from": None,
        "network": "tron",
        "currency": payment.currency,
        "payer_currency": "USDT",
        "additional_data": "https://e.x/ü",
    }
    data["sign"] = cryptomus.sign(data, key)
    return cryptomus.php_json(data)
