from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.accounts.services import customer_create
from smmpanel.core.errors import PanelError


class Command(BaseCommand):
    help = "Create a customer with an opening balance; prints the new API key (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--balance", default="0", help="Opening balance, e.g. 100.00")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None, help="For the web pages; none: no login")
        parser.add_argument("--currency", default=None)
        parser.add_argument("--discount", default="0", help="Percent off every rate, e.g. 12.5")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            customer, key = customer_create(
                username=opts["username"],
                balance=opts["balance"],
                email=opts["email"],
                password=opts["password"],
                currency=opts["currency"],
                discount_percent=opts["discount"],
            )
        except (PanelError, ValueError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        self.stderr.write(
            f"Customer {customer} created, balance {customer.balance} {customer.currency}. API key:"
        )
        self.stdout.write(key)
