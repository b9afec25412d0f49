"""The account page: links to allauth's e-mail, password and 2FA pages; the time zone and
language saved through accounts.services and applied to every page after."""

from __future__ import annotations

import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from smmpanel.support.services import ticket_open
from tests.factories import make_customer
from tests.web.pages import form_values, queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    customer, _ = make_customer(username="erin")
    client.force_login(customer.user)
    return customer


def test_the_page_links_each_setting_to_its_page(client, customer) -> None:
    html = client.get("/account").content.decode()
    for url in ("/accounts/email/", "/accounts/password/change/", "/accounts/2fa/", "/api#key"):
        assert f'href="{url}"' in html, url
    assert "Off" in html  # two-factor not turned on yet
    assert '<option value="Europe/Istanbul">Europe/Istanbul</option>' in html
    assert '<option value="tr">Türkçe</option>' in html


def test_preferences_are_saved_and_every_page_follows_them(client, customer) -> None:
    ticket = ticket_open(customer=customer, subject="When?", topic="other", body="Dates")
    response = client.post("/account", {"time_zone": "Europe/Istanbul", "language": "tr"})
    assert response.status_code == 302 and response["Location"] == "/account"
    customer.refresh_from_db()
    assert (customer.time_zone, customer.language) == ("Europe/Istanbul", "tr")

    page = client.get("/account").content.decode()
    assert '<html lang="tr">' in page
    assert '<option value="Europe/Istanbul" selected>' in page
    thread = client.get(f"/tickets/{ticket.pk}").content.decode()
    istanbul = timezone.localtime(ticket.created_at, zoneinfo.ZoneInfo("Europe/Istanbul"))
    utc = timezone.localtime(ticket.created_at, zoneinfo.ZoneInfo("UTC"))
    assert f"{istanbul:%H:%M}" in thread and f"{utc:%H:%M}" not in thread

    # Back to the panel's defaults.
    client.post("/account", {"time_zone": "", "language": ""})
    customer.refresh_from_db()
    assert (customer.time_zone, customer.language) == ("", "")
    assert '<html lang="en">' in client.get("/account").content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"time_zone": "Mars/Olympus", "language": ""}, "time_zone"),
        ({"time_zone": "", "language": "xx"}, "language"),
    ],
)
def test_unknown_choices_are_refused_beside_their_field(client, customer, data, field) -> None:
    response = client.post("/account", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_errors"' in html
    customer.refresh_from_db()
    assert (customer.time_zone, customer.language) == ("", "")


def test_saving_needs_the_csrf_token(customer) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer.user)
    assert (
        browser.post("/account", {"time_zone": "Asia/Tokyo", "language": "tr"}).status_code == 403
    )
    customer.refresh_from_db()
    assert customer.time_zone == ""
    token = form_values(browser.get("/account").content.decode())["csrfmiddlewaretoken"]
    data = {"time_zone": "Asia/Tokyo", "language": "", "csrfmiddlewaretoken": token}
    assert browser.post("/account", data).status_code == 302
    customer.refresh_from_db()
    assert customer.time_zone == "Asia/Tokyo"


def test_the_page_needs_a_customer(client) -> None:
    response = client.get("/account")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    staff = get_user_model().objects.create_user("op", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/account").status_code == 404


def test_the_page_costs_a_fixed_number_of_queries(client, customer) -> None:
    first = queries(client, "/account")
    client.post("/account", {"time_zone": "Europe/Istanbul", "language": "tr"})
    assert queries(client, "/account") == first
