"""The customer's pages, under the `web` namespace."""

from __future__ import annotations

from django.urls import path

from smmpanel.web.views import home, orders

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("orders", orders.orders, name="orders"),
    path("orders/<int:order_id>", orders.order_detail, name="order_detail"),
    path("orders/<int:order_id>/cancel", orders.order_cancel, name="order_cancel"),
    path("orders/<int:order_id>/refill", orders.order_refill, name="order_refill"),
    path("dripfeeds", orders.dripfeeds, name="dripfeeds"),
    path("subscriptions", orders.subscriptions, name="subscriptions"),
    path("refills", orders.refills, name="refills"),
]
