from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.core.errors import PanelError
from smmpanel.orders.services import order_progress, order_transition
from smmpanel.orders.states import OrderStatus

CHOICES = {
    "start": OrderStatus.IN_PROGRESS,
    "processing": OrderStatus.PROCESSING,
    "complete": OrderStatus.COMPLETED,
    "partial": OrderStatus.PARTIAL,
    "cancel": OrderStatus.CANCELED,
    "pause": OrderStatus.PAUSED,
    "resume": OrderStatus.ACTIVE,
    "expire": OrderStatus.EXPIRED,
}


class Command(BaseCommand):
    help = (
        "Fulfil an order by hand: start, progress, complete, partial (refunds --remains), "
        "cancel (refunds all); pause/resume/expire a subscription."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order", type=int)
        parser.add_argument("step", choices=[*CHOICES, "progress"])
        parser.add_argument("--remains", type=int)
        parser.add_argument("--start-count", type=int)
        parser.add_argument("--completed-runs", type=int)

    def handle(self, *args: Any, **opts: Any) -> None:
        fields = {
            "remains": opts["remains"],
            "start_count": opts["start_count"],
            "completed_runs": opts["completed_runs"],
        }
        try:
            if opts["step"] == "progress":
                order = order_progress(order_id=opts["order"], actor="console", **fields)
            else:
                order = order_transition(
                    order_id=opts["order"], to=CHOICES[opts["step"]], actor="console", **fields
                )
        except PanelError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Order #{order.pk}: {order.status}, remains {order.remains}")
