from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "smmpanel.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # They register their kinds (orders/kinds.py) and their after-transition hooks
        # (orders.services), neither of which imports them.
        from smmpanel.orders import dripfeed, subscriptions  # noqa: F401
