"""The customer's pages, under the `web` namespace."""

from __future__ import annotations

from django.urls import path

from smmpanel.web.views import home

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
]
