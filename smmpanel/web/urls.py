"""The customer's pages, under the `web` namespace."""

from __future__ import annotations

from django.urls import path

from smmpanel.web.views import (
    account,
    api_docs,
    funds,
    home,
    language,
    order_mass,
    order_new,
    orders,
    services,
    tickets,
)

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("language", language.set_language, name="set_language"),
    path("services", services.services, name="services"),
    path("api", api_docs.api_docs, name="api"),
    path("account", account.account, name="account"),
    path("tickets", tickets.ticket_list, name="tickets"),
    path("tickets/new", tickets.ticket_new, name="ticket_new"),
    path("tickets/<int:ticket_id>", tickets.ticket_detail, name="ticket"),
    path("tickets/<int:ticket_id>/close", tickets.ticket_close_view, name="ticket_close"),
    path("order/new", order_new.order_new, name="order_new"),
    path("order/new/charge", order_new.order_charge, name="order_charge"),
    path("order/mass", order_mass.order_mass, name="order_mass"),
    path("funds", funds.funds, name="funds"),
    path("funds/quote", funds.funds_quote, name="funds_quote"),
    path("payments", funds.payment_list, name="payments"),
    path("payments/<uuid:uid>", funds.payment_detail, name="payment"),
    path("payments/<uuid:uid>/state", funds.payment_state, name="payment_state"),
    path("payments/return/<str:token>", funds.payment_return, name="payment_return"),
    path("orders", orders.orders, name="orders"),
    path("orders/<int:order_id>", orders.order_detail, name="order_detail"),
    path("orders/<int:order_id>/cancel", orders.order_cancel, name="order_cancel"),
    path("orders/<int:order_id>/refill", orders.order_refill, name="order_refill"),
    path("orders/dripfeeds", orders.dripfeeds, name="dripfeeds"),
    path("orders/subscriptions", orders.subscriptions, name="subscriptions"),
    path("orders/refills", orders.refills, name="refills"),
]
