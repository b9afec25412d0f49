"""The demo gateway: a hosted page served by the panel itself (/payments/demo/<uid>/) where
the customer presses Pay or Fail, after which the "gateway" POSTs a signed callback to the
panel's webhook over HTTP, exactly as a real one would. `make run` shows adding funds end
to end with it, and nothing leaves the machine.

The signature is Stripe's scheme with its own header: `X-Demo-Signature: t=<unix>,v1=<hex>`,
the HMAC-SHA256 of `<t>.<body>` under the method's `signing_secret`; older than five
minutes is refused, so a captured callback cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import ClassVar

import httpx
from django.urls import reverse

from smmpanel.billing.gateways.base import (
    BadCallback,
    CallbackEvent,
    Checkout,
    Gateway,
    GatewayError,
    Meaning,
    Urls,
    secret,
)
from smmpanel.billing.models import Payment, PaymentMethod
from smmpanel.core.money import format_money

HEADER = "X-Demo-Signature"
TOLERANCE = 300  # seconds


def sign(body: bytes, key: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(body: bytes, header: str, key: str, now: float | None = None) -> None:
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        t = int(parts["t"][0])
    except (KeyError, ValueError):
        raise BadCallback(f"no timestamp in {HEADER}") from None
    expected = sign(body, key, t).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise BadCallback("the signature does not match")
    if abs((time.time() if now is None else now) - t) > TOLERANCE:
        raise BadCallback("the signature is older than five minutes")


class Demo(Gateway):
    code: ClassVar[str] = "demo"
    label: ClassVar[str] = "Demo (a gateway inside the panel, for trying it out)"
    secret_names: ClassVar[tuple[str, ...]] = ("signing_secret",)
    kept_headers: ClassVar[tuple[str, ...]] = (HEADER.lower(),)

    def start(self, *, method: PaymentMethod, payment: Payment, urls: Urls) -> Checkout:
        secret(method, "signing_secret")  # refuse to start what could never complete
        page = reverse("payment_demo_checkout", args=[payment.uid])
        return Checkout(reference=f"demo_{payment.uid.hex}", url=urls.site.rstrip("/") + page)

    def read_callback(
        self, *, method: PaymentMethod, headers: Mapping[str, str], body: bytes
    ) -> CallbackEvent:
        verify(body, headers.get(HEADER.lower(), ""), secret(method, "signing_secret"))
        try:
            data = json.loads(body)
            meaning = {"payment.paid": Meaning.PAID, "payment.failed": Meaning.FAILED}.get(
                data["type"], Meaning.IGNORED
            )
            return CallbackEvent(
                meaning=meaning,
                payment_uid=uuid.UUID(data["payment"]),
                reference=str(data.get("reference", "")),
                amount=Decimal(data["amount"]),
                currency=str(data["currency"]).upper(),
                event_id=str(data["id"]),
            )
        except (ValueError, KeyError, TypeError, InvalidOperation, AttributeError) as exc:
            raise BadCallback(f"a signed body that does not read: {exc!r}") from None


def demo_callback_body(payment: Payment, *, paid: bool) -> bytes:
    return json.dumps(
        {
            "id": f"evt_{secrets.token_hex(8)}",
            "type": "payment.paid" if paid else "payment.failed",
            "payment": str(payment.uid),
            "reference": payment.gateway_reference,
            "amount": format_money(payment.total),
            "currency": payment.currency,
        }
    ).encode()


def demo_send_callback(
    *,
    method: PaymentMethod,
    payment: Payment,
    paid: bool,
    callback_url: str,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """What the demo gateway does when the customer presses Pay or Fail: POST the signed
    callback to the panel's webhook. Returns the webhook's HTTP status."""
    body = demo_callback_body(payment, paid=paid)
    headers = {
        "Content-Type": "application/json",
        HEADER: sign(body, secret(method, "signing_secret")),
        "User-Agent": "smmpanel-demo-gateway",
    }
    try:
        with httpx.Client(timeout=10, follow_redirects=False, transport=transport) as client:
            return client.post(callback_url, content=body, headers=headers).status_code
    except httpx.HTTPError as exc:
        raise GatewayError(f"the demo gateway could not reach {callback_url}: {exc}") from exc
