"""The front page: what this panel sells and how to start; customers go straight to work."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from smmpanel.web.middleware import request_customer


def home(request: HttpRequest) -> HttpResponse:
    landing = reverse(settings.LOGIN_REDIRECT_URL)
    if request_customer(request) is not None and landing != request.path:
        return redirect(landing)
    api_url = request.build_absolute_uri("/api/v2")
    return render(request, "web/home.html", {"api_url": api_url})
