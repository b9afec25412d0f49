"""Cryptomus, a crypto gateway panel customers use: an invoice per payment (the customer pays
on Cryptomus' page), and callbacks signed as Cryptomus documents: the body's `sign` is
md5(base64(json of the body without `sign`) + the payment API key), the JSON written the way
PHP's `json_encode(..., JSON_UNESCAPED_UNICODE)` writes it (compact, "/" escaped).

`paid` and `paid_over` credit what was ordered; `wrong_amount` (the customer paid less) is
held for the operator; `fail`, `cancel` and `system_fail` reject; refunds are a later step.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import httpx

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
from smmpanel.core.money import currency_places

API = "https://api.cryptomus.com/v1"
PAID = frozenset({"paid", "paid_over"})
FAILED = frozenset({"fail", "cancel", "system_fail"})
REVIEW = frozenset({"wrong_amount"})


def php_json(data: Any) -> bytes:
    """JSON as PHP's json_encode(..., JSON_UNESCAPED_UNICODE) writes it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/").encode()


def sign(data: Any, key: str) -> str:
    return hashlib.md5(base64.b64encode(php_json(data)) + key.encode()).hexdigest()  # noqa: S324 (Cryptomus' scheme)


class Cryptomus(Gateway):
    code: ClassVar[str] = "cryptomus"
    label: ClassVar[str] = "Cryptomus (crypto)"
    secret_names: ClassVar[tuple[str, ...]] = ("payment_key",)
    config_names: ClassVar[tuple[str, ...]] = ("merchant_id",)
    #: Replaced by tests only: Cryptomus' HTTP edge.
    transport: httpx.BaseTransport | None = None

    def start(self, *, method: PaymentMethod, payment: Payment, urls: Urls) -> Checkout:
        merchant = str(method.config.get("merchant_id", ""))
        if not merchant:
            raise GatewayError(f"the method {method.code!r} has no merchant_id set")
        places = currency_places(payment.currency)
        body = {
            "amount": f"{payment.total:.{places}f}",
            "currency": payment.currency,
            "order_id": str(payment.uid),
            "url_callback": urls.callback,
            "url_return": urls.return_to,
            "url_success": urls.return_to,
        }
        raw = php_json(body)
        headers = {
            "merchant": merchant,
            "sign": sign(body, secret(method, "payment_key")),
            "Content-Type": "application/json",
        }
        try:
            with httpx.Client(timeout=20, follow_redirects=False, transport=self.transport) as c:
                reply = c.post(f"{API}/payment", content=raw, headers=headers)
            result = reply.json()["result"]
            return Checkout(reference=str(result["uuid"]), url=str(result["url"]))
        except httpx.HTTPError as exc:
            raise GatewayError(f"Cryptomus could not be reached: {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise GatewayError(
                f"Cryptomus refused the invoice: HTTP {reply.status_code} {reply.text[:300]}"
            ) from exc

    def read_callback(
        self, *, method: PaymentMethod, headers: Mapping[str, str], body: bytes
    ) -> CallbackEvent:
        try:
            data = json.loads(body)
            given = data.pop("sign")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BadCallback("not a Cryptomus callback: no JSON object with a sign") from None
        if not isinstance(given, str) or not hmac.compare_digest(
            sign(data, secret(method, "payment_key")), given
        ):
            raise BadCallback("the signature does not match")
        try:
            status = str(data["status"])
            meaning = (
                Meaning.PAID
                if status in PAID
                else Meaning.FAILED
                if status in FAILED
                else Meaning.REVIEW
                if status in REVIEW
                else Meaning.IGNORED
            )
            return CallbackEvent(
                meaning=meaning,
                payment_uid=uuid.UUID(str(data["order_id"])),
                reference=str(data["uuid"]),
                amount=Decimal(str(data["amount"])),
                currency=str(data["currency"]).upper(),
                event_id=f"{data['uuid']}:{status}",
                detail=f"status {status}",
            )
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise BadCallback(f"a signed callback that does not read: {exc!r}") from None
