"""A logged-in customer's own language and time zone, for every page they see."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from smmpanel.accounts.models import Customer


def request_customer(request: HttpRequest) -> Customer | None:
    """The customer behind the request's login (staff without one: None), read once."""
    if not hasattr(request, "_customer"):
        customer = None
        if request.user.is_authenticated:
            customer = Customer.objects.filter(user_id=request.user.pk).first()
        request._customer = customer  # type: ignore[attr-defined]
    return request._customer  # type: ignore[attr-defined,no-any-return]


class CustomerPreferences:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The API is keyed, not logged in: it never pays for a customer lookup here.
        if request.path_info.startswith("/api/"):
            return self.get_response(request)
        customer = request_customer(request)
        if customer is not None and customer.language:
            translation.activate(customer.language)
            request.LANGUAGE_CODE = customer.language
        if customer is not None and customer.time_zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(customer.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
