from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.accounts.models import Customer
from smmpanel.accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create another API key for a customer; prints it (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--label", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        customer = Customer.objects.filter(user__username=opts["username"]).first()
        if customer is None:
            raise CommandError(f"No customer {opts['username']!r}")
        _, key = api_key_create(customer=customer, label=opts["label"])
        self.stdout.write(key)
