"""What every page's layout needs: the panel's name and the customer (balance in the header)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from smmpanel.web import navigation
from smmpanel.web.middleware import request_customer


def panel(request: HttpRequest) -> dict[str, Any]:
    customer = request_customer(request)
    return {
        "panel_name": settings.PANEL_NAME,
        "customer": customer,
        "signup_open": settings.SIGNUP_OPEN,
        "nav": navigation.nav_items(
            navigation.MAIN if customer else navigation.PUBLIC, request.path
        ),
        "account_nav": navigation.nav_items(navigation.ACCOUNT, request.path),
    }
