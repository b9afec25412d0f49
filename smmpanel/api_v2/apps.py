from django.apps import AppConfig


class ApiV2Config(AppConfig):
    name = "smmpanel.api_v2"
    label = "api_v2"
    verbose_name = "API v2"
