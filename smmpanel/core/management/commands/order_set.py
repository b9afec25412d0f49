from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import PanelError
from smmpanel.orders.models import Order
from smmpanel.orders.services import order_progress, order_transition
from smmpanel.orders.states import OrderStatus
from smmpanel.orders.subscriptions import (
    subscription_expire,
    subscription_pause,
    subscription_resume,
    subscription_stop,
)

CHOICES = {
    "start": OrderStatus.IN_PROGRESS,
    "processing": OrderStatus.PROCESSING,
    "complete": OrderStatus.COMPLETED,
    "partial": OrderStatus.PARTIAL,
    "cancel": OrderStatus.CANCELED,
}
#: A subscription's own steps: at a provider they cancel it there (and place it anew on
#: resume), which a bare status change would not.
SUBSCRIPTION: dict[str, Callable[..., Order]] = {
    "pause": subscription_pause,
    "resume": subscription_resume,
    "expire": subscription_expire,
    "stop": lambda **kw: subscription_stop(reason="stopped by the operator", **kw),
}


class Command(BaseCommand):
    help = (
        "Fulfil an order by hand: start, progress, complete, partial (refunds --remains), "
        "cancel (refunds all); pause/resume/stop/expire a subscription."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order", type=int)
        parser.add_argument("step", choices=[*CHOICES, "progress", *SUBSCRIPTION])
        parser.add_argument("--remains", type=int)
        parser.add_argument("--start-count", type=int)
        parser.add_argument("--completed-runs", type=int)

    def handle(self, *args: Any, **opts: Any) -> None:
        fields = {
            "remains": opts["remains"],
            "start_count": opts["start_count"],
            "completed_runs": opts["completed_runs"],
        }
        step = opts["step"]
        subscription = Order.objects.filter(
            pk=opts["order"], type=ServiceType.SUBSCRIPTIONS
        ).exists()
        try:
            if step in SUBSCRIPTION or (subscription and step == "cancel"):
                if not subscription:
                    raise PanelError(
                        f"{step} is for subscriptions; order #{opts['order']} is not one"
                    )
                order = SUBSCRIPTION["stop" if step == "cancel" else step](
                    order_id=opts["order"], actor="console"
                )
            elif step == "progress":
                order = order_progress(order_id=opts["order"], actor="console", **fields)
            else:
                order = order_transition(
                    order_id=opts["order"], to=CHOICES[step], actor="console", **fields
                )
        except PanelError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Order #{order.pk}: {order.status}, remains {order.remains}")
