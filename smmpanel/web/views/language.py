"""The footer's language switcher. For a customer the choice is also their saved language
(the one every page then uses), or the saved one would overrule the switch at once."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from smmpanel.accounts.services import customer_preferences_update
from smmpanel.web.middleware import request_customer


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    customer = request_customer(request)
    if customer is not None and language in dict(settings.LANGUAGES):
        customer_preferences_update(
            customer=customer, time_zone=customer.time_zone, language=language
        )
    return django_set_language(request)
