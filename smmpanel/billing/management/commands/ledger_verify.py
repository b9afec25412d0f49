from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from smmpanel.billing.services import ledger_verify


class Command(BaseCommand):
    help = "Check that every customer's balance equals the sum of their ledger."

    def handle(self, *args: Any, **opts: Any) -> None:
        problems = ledger_verify()
        for p in problems:
            self.stderr.write(
                f"customer {p.customer_id}: {p.detail} (balance {p.balance}, ledger {p.ledger_sum})"
            )
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the ledger")
        self.stdout.write("The ledger adds up.")
