from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    """A development tool, not part of the panel: a provider to buy from in the demo and the
    test suite's peer over loopback. It imports nothing from the panel's apps (server.py is
    the standard library only), so it cannot share their bugs; an app only so that
    `smmpanel simulator` runs it."""

    name = "smmpanel.simulator"
    label = "simulator"
    verbose_name = "Provider simulator"
