"""The API page: the documentation of every action the API dispatches on and of every order
type on sale; a customer's key made anew, shown once, the old one revoked."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from smmpanel.accounts.models import ApiKey
from smmpanel.accounts.services import customer_create, customer_sign_up
from smmpanel.api_v2.views import ACTIONS
from smmpanel.catalog.models import ServiceType
from smmpanel.orders.kinds import KINDS
from tests.factories import make_customer, make_service
from tests.web.pages import form_values, queries

pytestmark = pytest.mark.django_db

NEW_KEY = re.compile(r'id="api-key" type="text" readonly value="([0-9a-f]{32})"')


def test_visitors_read_every_action_and_the_types_on_sale_without_a_key_section(client) -> None:
    make_service(name="Followers", rate="0.90")
    make_service(type=ServiceType.CUSTOM_COMMENTS, name="Comments")
    sub = make_service(type=ServiceType.SUBSCRIPTIONS, name="Auto likes", min=50, max=500)
    html = client.get("/api").content.decode()
    for action in ACTIONS:
        assert f'id="action-{action}"' in html
    assert "http://testserver/api/v2" in html
    # The order types come from the kinds, with their own parameters.
    for type_ in ("Default", "Custom Comments", "Subscriptions"):
        assert f'<h3 class="h6">{type_} ' in html
    for name in (*KINDS["Subscriptions"].required, *KINDS["Subscriptions"].optional):
        assert f"<code>{name}</code>" in html
    assert f"-d service={sub.pk}" in html
    # The services reply, as the API gives it, at the listed rate.
    assert '"rate": "0.90"' in unescape(html)
    assert "curl -d key=YOUR_API_KEY" in html and "import requests" in html
    assert "curl_setopt_array" in html
    assert 'id="key"' not in html and "Log in</a> to make your API key" in html
    assert "Mentions Hashtag" not in html  # no service of that type is on sale


def test_a_customer_sees_their_price_and_balance_in_the_examples(client) -> None:
    make_service(name="Followers", rate="0.90")
    customer, _ = customer_create(username="vip", discount_percent="10", balance="12.5")
    client.force_login(customer.user)
    html = client.get("/api").content.decode()
    assert '"rate": "0.81"' in unescape(html)
    assert '"balance": "12.50000"' in unescape(html)


def test_regenerating_shows_the_key_once_and_revokes_the_old_one(client, api) -> None:
    customer, old_key = make_customer(username="dev")
    assert api(old_key, "balance")["currency"] == "USD"
    client.force_login(customer.user)
    page = client.get("/api").content.decode()
    assert f"<code>{old_key[:8]}…</code>" in page and old_key not in page

    response = client.post("/api")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    new_key = NEW_KEY.search(html).group(1)
    assert new_key != old_key
    assert f"curl -d key={new_key} -d action=balance" in html

    assert api(old_key, "balance") == {"error": "Invalid API key"}
    assert api(new_key, "balance")["balance"] == "100.00000"
    assert list(ApiKey.objects.filter(customer=customer, is_active=True)) == [
        ApiKey.objects.get(prefix=new_key[:8])
    ]
    # Shown once: the page after it has only the first characters.
    later = client.get("/api").content.decode()
    assert new_key not in later and f"<code>{new_key[:8]}…</code>" in later


def test_the_form_sent_again_makes_no_other_key(client, api) -> None:
    """A reload of the answer that showed the key sends its form again: that must not revoke
    the key just shown for yet another one."""
    customer, _ = make_customer(username="twice")
    client.force_login(customer.user)
    form = form_values(client.get("/api").content.decode())
    assert form["replaces"] == str(ApiKey.objects.get(customer=customer).pk)
    new_key = NEW_KEY.search(client.post("/api", form).content.decode()).group(1)

    again = client.post("/api", form)
    assert again.status_code == 200
    html = again.content.decode()
    assert 'id="sent-again"' in html and not NEW_KEY.search(html)
    assert api(new_key, "balance")["currency"] == "USD"
    assert ApiKey.objects.filter(customer=customer).count() == 2
    # The page's form, as it is now, makes the next one.
    form = form_values(client.get("/api").content.decode())
    assert NEW_KEY.search(client.post("/api", form).content.decode())
    assert api(new_key, "balance") == {"error": "Invalid API key"}


def test_a_customer_without_a_key_makes_their_first(client, api) -> None:
    user = get_user_model().objects.create_user("newbie", password="x")
    customer = customer_sign_up(user=user)
    client.force_login(user)
    assert "You have no API key yet." in client.get("/api").content.decode()
    new_key = NEW_KEY.search(client.post("/api").content.decode()).group(1)
    assert api(new_key, "balance") == {"balance": "0.00000", "currency": customer.currency}


def test_making_a_key_needs_a_customer_and_the_csrf_token(api) -> None:
    customer, old_key = make_customer(username="csrf")
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/api").status_code == 403
    browser.force_login(customer.user)
    assert browser.post("/api").status_code == 403
    assert api(old_key, "balance")["currency"] == "USD"  # nothing was revoked
    token = form_values(browser.get("/api").content.decode())["csrfmiddlewaretoken"]
    assert browser.post("/api", {"csrfmiddlewaretoken": token}).status_code == 200
    assert api(old_key, "balance") == {"error": "Invalid API key"}

    visitor = Client()
    response = visitor.post("/api")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    staff = get_user_model().objects.create_user("op", password="x", is_staff=True)
    visitor.force_login(staff)
    assert visitor.post("/api").status_code == 404
    assert ApiKey.objects.filter(is_active=True).count() == 1


def test_the_page_costs_the_same_queries_whatever_the_catalog(client) -> None:
    make_service(name="One")
    public = queries(client, "/api")
    customer, _ = make_customer(username="q")
    client.force_login(customer.user)
    logged_in = queries(client, "/api")
    for n in range(20):
        make_service(name=f"S{n}", type=list(KINDS)[n % len(KINDS)])
    assert queries(client, "/api") == logged_in
    client.logout()
    assert queries(client, "/api") == public


def test_the_footer_and_the_menus_link_the_page(client) -> None:
    assert 'href="/api">API v2</a>' in client.get("/services").content.decode()
    customer, _ = make_customer(username="menus")
    client.force_login(customer.user)
    html = client.get("/services").content.decode()
    assert 'class="dropdown-item" href="/api"' in html
    assert 'class="dropdown-item" href="/account"' in html
