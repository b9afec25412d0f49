"""The gateways by code: a new gateway is a module here and a line in `GATEWAYS`."""

from __future__ import annotations

from smmpanel.billing.gateways.base import Gateway
from smmpanel.billing.gateways.cryptomus import Cryptomus
from smmpanel.billing.gateways.demo import Demo
from smmpanel.billing.gateways.manual import Manual
from smmpanel.billing.gateways.stripe_checkout import StripeCheckout

GATEWAYS: dict[str, Gateway] = {
    g.code: g for g in (Manual(), Demo(), StripeCheckout(), Cryptomus())
}


def gateway_of(code: str) -> Gateway:
    try:
        return GATEWAYS[code]
    except KeyError:
        raise LookupError(f"no payment gateway {code!r}") from None
