"""A bank transfer, mobile money, cash: the customer files the amount and their reference;
the operator checks the account and approves or rejects it in the admin."""

from __future__ import annotations

from typing import ClassVar

from smmpanel.billing.gateways.base import Checkout, Gateway, Urls
from smmpanel.billing.models import Payment, PaymentMethod


class Manual(Gateway):
    code: ClassVar[str] = "manual"
    label: ClassVar[str] = "Manual (the operator approves)"
    manual: ClassVar[bool] = True

    def start(self, *, method: PaymentMethod, payment: Payment, urls: Urls) -> Checkout:
        return Checkout()
