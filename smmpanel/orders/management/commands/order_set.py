from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.core.errors import PanelError
from smmpanel.orders.kinds import Drive, kind_of, orders_driven
from smmpanel.orders.models import ForwardState, Order
from smmpanel.orders.services import order_cancel, order_fulfil, order_progress, order_settle
from smmpanel.orders.states import FINAL_STATUSES, OrderStatus
from smmpanel.orders.subscriptions import (
    subscription_expire,
    subscription_pause,
    subscription_resume,
)

ACTOR = "console"
#: Fulfilment by hand, of an order no provider has.
BY_HAND = {
    "start": OrderStatus.IN_PROGRESS,
    "processing": OrderStatus.PROCESSING,
    "complete": OrderStatus.COMPLETED,
    "partial": OrderStatus.PARTIAL,
}
#: How an order ended, recorded without telling its provider (a reason is required).
SETTLE = {
    "settle-complete": OrderStatus.COMPLETED,
    "settle-partial": OrderStatus.PARTIAL,
    "settle-cancel": OrderStatus.CANCELED,
}
SUBSCRIPTION: dict[str, Callable[..., Order]] = {
    "pause": subscription_pause,
    "resume": subscription_resume,
    "expire": subscription_expire,
}


class Command(BaseCommand):
    help = (
        "Move an order by hand. start, processing, progress, complete, partial (refunds "
        "--remains): for orders fulfilled by hand. cancel (or stop): refunds all of an order "
        "by hand; an order at a provider gets the provider's cancel and ends as it answers; "
        "a drip-feed stops its runs; a subscription stops. pause, resume, expire: "
        "subscriptions. settle-complete, settle-partial (--remains), settle-cancel: record how "
        "an order ended without telling its provider; --reason is required."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order", type=int)
        parser.add_argument(
            "step", choices=[*BY_HAND, "progress", "cancel", "stop", *SUBSCRIPTION, *SETTLE]
        )
        parser.add_argument("--remains", type=int)
        parser.add_argument("--start-count", type=int)
        parser.add_argument("--completed-runs", type=int)
        parser.add_argument("--reason", default="", help="why (required to settle)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            message = self.step(opts["order"], opts["step"], opts)
        except PanelError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(message)

    def step(self, order_id: int, step: str, opts: dict[str, Any]) -> str:
        fields = {
            "remains": opts["remains"],
            "start_count": opts["start_count"],
            "completed_runs": opts["completed_runs"],
        }
        if step in SUBSCRIPTION:
            if not Order.objects.filter(orders_driven(Drive.SUBSCRIPTION), pk=order_id).exists():
                raise PanelError(f"{step} is for subscriptions; order #{order_id} is not one")
            return _outcome(SUBSCRIPTION[step](order_id=order_id, actor=ACTOR))
        if step in SETTLE:
            if SETTLE[step] == OrderStatus.PARTIAL and opts["remains"] is None:
                raise PanelError("settle-partial needs --remains (what was not delivered)")
            order = order_settle(
                order_id=order_id,
                to=SETTLE[step],
                actor=ACTOR,
                reason=opts["reason"],
                remains=opts["remains"],
            )
            return _outcome(order)
        if step in ("cancel", "stop"):
            order = order_cancel(order_id=order_id, actor=ACTOR)
            # Ended, or stopped its kind's own way (a drip-feed's runs): nothing waits upstream.
            if order.status in FINAL_STATUSES or kind_of(order).drive is not Drive.FORWARD:
                return _outcome(order)
            waiting = (
                "it is held: honoured when the held send is settled"
                if order.forward_state == ForwardState.HELD
                else "the worker passes it on to the provider, and the order ends as it answers"
            )
            return f"Order #{order.pk}: {order.status}, cancel requested; {waiting}"
        if step == "progress":
            return _outcome(order_progress(order_id=order_id, actor=ACTOR, **fields))
        return _outcome(order_fulfil(order_id=order_id, to=BY_HAND[step], actor=ACTOR, **fields))


def _outcome(order: Order) -> str:
    if order.is_subscription:
        return f"Subscription #{order.pk}: {order.status}"
    return f"Order #{order.pk}: {order.status}, remains {order.remains}"
