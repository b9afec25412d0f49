from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.accounts.models import Customer
from smmpanel.billing.services import customer_adjust, customer_deposit
from smmpanel.core.errors import PanelError


class Command(BaseCommand):
    help = "Add funds to a customer (a deposit), or correct a balance with --adjust."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--amount", required=True)
        parser.add_argument("--memo", default="")
        parser.add_argument("--adjust", action="store_true", help="An adjustment (either sign)")

    def handle(self, *args: Any, **opts: Any) -> None:
        customer = Customer.objects.filter(user__username=opts["username"]).first()
        if customer is None:
            raise CommandError(f"No customer {opts['username']!r}")
        post = customer_adjust if opts["adjust"] else customer_deposit
        try:
            entry = post(customer_id=customer.pk, amount=opts["amount"], memo=opts["memo"])
        except (PanelError, ValueError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        self.stdout.write(f"{entry.kind} {entry.amount}: balance now {entry.balance_after}")
