"""The account page: where each setting is changed. E-mail, password and two-factor are
allauth's own pages; the time zone and language are saved here through accounts.services."""

from __future__ import annotations

import zoneinfo
from functools import cache

from allauth.mfa.utils import is_mfa_enabled
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smmpanel.accounts.services import customer_preferences_update
from smmpanel.core.errors import PanelError
from smmpanel.web.errors import error_message
from smmpanel.web.middleware import request_customer


@cache
def _zones() -> list[tuple[str, str]]:
    # Reading the zone database lists a directory tree: once per process is enough.
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def _zone_choices() -> list[tuple[str, str]]:
    default = _("The panel's time zone (%(zone)s)") % {"zone": settings.TIME_ZONE}
    return [("", default), *_zones()]


def _language_choices() -> list[tuple[str, str | Promise]]:
    return [("", _("The browser's language")), *settings.LANGUAGES]


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=_zone_choices,
        help_text=_("Every date on your pages is shown in it."),
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=_language_choices)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    customer = request_customer(request)
    if customer is None:  # staff without a customer: their settings are the admin's
        raise Http404
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                customer_preferences_update(
                    customer=customer,
                    time_zone=form.cleaned_data["time_zone"],
                    language=form.cleaned_data["language"],
                )
            except PanelError as exc:
                form.add_error(None, error_message(exc))
            else:
                # Said in the language just chosen, as the next page is.
                with translation.override(customer.language or translation.get_language()):
                    messages.success(request, gettext("Your preferences are saved."))
                return redirect("web:account")
    else:
        form = PreferencesForm(
            initial={"time_zone": customer.time_zone, "language": customer.language}
        )
    return render(
        request,
        "web/account.html",
        {"form": form, "mfa_enabled": is_mfa_enabled(request.user)},
    )
