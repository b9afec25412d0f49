from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "smmpanel.core"
    label = "core"
    verbose_name = "Core"
