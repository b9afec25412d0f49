from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smmpanel.api_v2.views import ACTIONS


def home(request: HttpRequest) -> HttpResponse:
    """The front page: what this panel is and how to talk to its API."""
    api_url = request.build_absolute_uri("/api/v2")
    return render(request, "web/home.html", {"api_url": api_url, "actions": list(ACTIONS)})
