from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "smmpanel.billing"
    label = "billing"
    verbose_name = "Billing"
