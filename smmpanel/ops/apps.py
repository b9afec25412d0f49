from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the panel as a whole: `serve`, `up` (web server, workers and, for the demo,
    the simulator) and `demo-seed`. It sits above every other app, the only place allowed
    to reach across all of them and the simulator at once."""

    name = "smmpanel.ops"
    label = "ops"
    verbose_name = "Operations"
