from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "smmpanel.web"
    label = "web"
    verbose_name = "Web"
