"""What a payment gateway is to the panel: one module, one class, two calls.

`start` runs after the payment row is committed and outside any transaction (it may call
the gateway over HTTP); it returns the gateway's reference and where the customer pays.
`read_callback` checks a callback's signature the way the gateway documents and says what
it means; it never touches the database. Deciding what a callback does to a payment (and
to a balance) is `billing.services.payment_callback_receive`'s job alone, the same for
every gateway, so a gateway can neither credit twice nor credit what does not match.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from smmpanel.billing.models import Payment, PaymentMethod


class GatewayError(Exception):
    """The gateway could not be reached or refused to start a payment (operator's English)."""


class BadCallback(Exception):
    """A callback that is not from the gateway: a wrong or missing signature, a stale
    timestamp, a body that does not parse. Its text says which, for the operator."""


@dataclass(frozen=True)
class Urls:
    """Where a gateway sends the customer back and its callbacks (absolute URLs)."""

    callback: str
    return_to: str
    #: The panel's own address (the demo gateway's hosted page is served there).
    site: str


@dataclass(frozen=True)
class Checkout:
    #: The gateway's id of the payment ("" when it has none, like a manual transfer).
    reference: str = ""
    #: Where the customer goes to pay ("" when there is nowhere to go).
    url: str = ""


class Meaning(StrEnum):
    PAID = "paid"  #: the money arrived: credit, if amount and currency match
    FAILED = "failed"  #: it will not arrive (failed, expired, canceled at the gateway)
    REVIEW = "review"  #: something arrived that the operator must look at (a short payment)
    IGNORED = "ignored"  #: an event the panel has no use for


@dataclass(frozen=True)
class CallbackEvent:
    """A verified callback, read: which payment, what happened, for how much."""

    meaning: Meaning
    #: The payment, by the panel's id sent to the gateway, or by the gateway's reference.
    payment_uid: uuid.UUID | None = None
    reference: str = ""
    amount: Decimal | None = None
    currency: str = ""
    event_id: str = ""
    detail: str = ""


class Gateway:
    code: ClassVar[str]
    label: ClassVar[str]
    #: The operator confirms its payments in the admin; it takes no callbacks.
    manual: ClassVar[bool] = False
    #: The settings it needs, kept encrypted (`PaymentMethod.secrets()`)...
    secret_names: ClassVar[tuple[str, ...]] = ()
    #: ...and in the clear (`PaymentMethod.config`).
    config_names: ClassVar[tuple[str, ...]] = ()
    #: The request headers worth keeping with a callback (lower case).
    kept_headers: ClassVar[tuple[str, ...]] = ()

    def start(self, *, method: PaymentMethod, payment: Payment, urls: Urls) -> Checkout:
        raise NotImplementedError

    def read_callback(
        self, *, method: PaymentMethod, headers: Mapping[str, str], body: bytes
    ) -> CallbackEvent:
        raise BadCallback(f"{self.label} sends no callbacks")


def secret(method: PaymentMethod, name: str) -> str:
    """A secret setting the gateway cannot work without."""
    value = method.secrets().get(name, "")
    if not value:
        raise GatewayError(f"the method {method.code!r} has no {name} set")
    return value
