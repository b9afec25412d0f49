from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "smmpanel.fulfillment"
    label = "fulfillment"
    verbose_name = "Fulfillment"
