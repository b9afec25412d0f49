"""Stripe Checkout through the official library: a Checkout Session per payment (the
customer pays on Stripe's page), and the webhook's signature checked by
`stripe.Webhook.construct_event` with the endpoint's signing secret.

`checkout.session.completed` with `payment_status=paid` credits (and
`checkout.session.async_payment_succeeded`, for methods that settle later);
`checkout.session.expired` and `async_payment_failed` reject. The session carries the
payment's uid as `client_reference_id`, and Stripe's amount is checked against ours.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
import stripe

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
from smmpanel.core.money import from_minor_units, to_minor_units

SIGNATURE_HEADER = "stripe-signature"
PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
FAILED_EVENTS = frozenset({"checkout.session.expired", "checkout.session.async_payment_failed"})


class _HttpxClient(stripe.HTTPXClient):
    """The library's own httpx client, on a given transport: tests replace Stripe's HTTP
    edge (an `httpx.MockTransport`) and nothing else of the library."""

    def __init__(self, transport: httpx.BaseTransport | None) -> None:
        super().__init__(timeout=20, allow_sync_methods=True)
        if transport is not None:
            self._client = httpx.Client(transport=transport)


class StripeCheckout(Gateway):
    code: ClassVar[str] = "stripe"
    label: ClassVar[str] = "Stripe Checkout"
    secret_names: ClassVar[tuple[str, ...]] = ("secret_key", "webhook_secret")
    kept_headers: ClassVar[tuple[str, ...]] = (SIGNATURE_HEADER,)
    #: Replaced by tests only: Stripe's HTTP edge.
    transport: httpx.BaseTransport | None = None

    def client(self, method: PaymentMethod) -> stripe.StripeClient:
        return stripe.StripeClient(
            secret(method, "secret_key"),
            http_client=_HttpxClient(self.transport),
            max_network_retries=2,  # safe: every create carries an idempotency key
        )

    def start(self, *, method: PaymentMethod, payment: Payment, urls: Urls) -> Checkout:
        try:
            session = self.client(method).v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "client_reference_id": str(payment.uid),
                    "metadata": {"payment": str(payment.uid)},
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": payment.currency.lower(),
                                "unit_amount": to_minor_units(payment.total, payment.currency),
                                "product_data": {"name": f"Balance top-up {payment.amount}"},
                            },
                        }
                    ],
                    "success_url": urls.return_to,
                    "cancel_url": urls.return_to,
                },
                options={"idempotency_key": f"smmpanel-payment-{payment.uid}"},
            )
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused the Checkout Session: {exc}") from exc
        if not session.id or not session.url:
            raise GatewayError("Stripe answered a Checkout Session without an id or a url")
        return Checkout(reference=session.id, url=session.url)

    def read_callback(
        self, *, method: PaymentMethod, headers: Mapping[str, str], body: bytes
    ) -> CallbackEvent:
        try:
            event = stripe.Webhook.construct_event(
                body, headers.get(SIGNATURE_HEADER), secret(method, "webhook_secret")
            )
        except stripe.SignatureVerificationError as exc:
            raise BadCallback(f"Stripe signature: {exc.user_message or exc}") from None
        except ValueError as exc:
            raise BadCallback(f"not a Stripe event: {exc}") from None
        try:
            return _read(event.to_dict())
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadCallback(f"a signed Stripe event that does not read: {exc!r}") from None


def _read(event: dict[str, Any]) -> CallbackEvent:
    kind = str(event["type"])
    if kind not in PAID_EVENTS | FAILED_EVENTS:
        return CallbackEvent(meaning=Meaning.IGNORED, event_id=str(event["id"]), detail=kind)
    session = event["data"]["object"]
    ref = session.get("client_reference_id")
    currency = str(session["currency"]).upper()
    if kind in FAILED_EVENTS:
        meaning = Meaning.FAILED
    elif session["payment_status"] in ("paid", "no_payment_required"):
        meaning = Meaning.PAID
    else:  # completed, but the money settles later: async_payment_succeeded will say
        meaning = Meaning.IGNORED
    return CallbackEvent(
        meaning=meaning,
        payment_uid=uuid.UUID(ref) if ref else None,
        reference=str(session["id"]),
        amount=from_minor_units(int(session["amount_total"]), currency),
        currency=currency,
        event_id=str(event["id"]),
        detail=kind,
    )
