from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.core.errors import PanelError
from smmpanel.orders.services import refill_transition
from smmpanel.orders.states import RefillStatus

CHOICES = {
    "accept": RefillStatus.IN_PROGRESS,
    "complete": RefillStatus.COMPLETED,
    "reject": RefillStatus.REJECTED,
    "error": RefillStatus.ERROR,
}


class Command(BaseCommand):
    help = "Handle a refill by hand: accept, complete, reject or error."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("refill", type=int)
        parser.add_argument("step", choices=list(CHOICES))

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            refill = refill_transition(
                refill_id=opts["refill"], to=CHOICES[opts["step"]], actor="console"
            )
        except PanelError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Refill #{refill.pk}: {refill.status}")
