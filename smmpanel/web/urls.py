"""The customer's pages, under the `web` namespace."""

from __future__ import annotations

from django.urls import path

from smmpanel.web.views import home, order_mass, order_new

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("order/new", order_new.order_new, name="order_new"),
    path("order/new/charge", order_new.order_charge, name="order_charge"),
    path("order/mass", order_mass.order_mass, name="order_mass"),
]
