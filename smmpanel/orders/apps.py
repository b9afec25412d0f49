from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "smmpanel.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # They register their after-transition hooks with orders.services, which never
        # imports them.
        from smmpanel.orders import dripfeed, subscriptions  # noqa: F401
