"""Sign-up makes a customer; the operator can close it; a customer's language and time zone
follow them onto every page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from smmpanel.accounts.models import ApiKey, Customer
from smmpanel.accounts.services import customer_preferences_update
from smmpanel.core.errors import PanelError
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _sign_up(client, username: str = "alice"):
    return client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": f"{username}@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def test_signing_up_makes_a_customer_with_nothing_but_a_login(client) -> None:
    response = _sign_up(client)
    assert response.status_code == 302
    customer = Customer.objects.get(user__username="alice")
    assert customer.balance == 0
    assert customer.currency == "USD"
    # A key is made when the customer asks for one, not before.
    assert not ApiKey.objects.filter(customer=customer).exists()


def test_a_refused_sign_up_leaves_neither_login_nor_customer(client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "bob", "email": "bob@example.com", "password1": "x", "password2": "y"},
    )
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not get_user_model().objects.filter(username="bob").exists()
    assert not Customer.objects.exists()


@override_settings(SIGNUP_OPEN=False)
def test_the_operator_can_close_sign_up(client) -> None:
    response = _sign_up(client)
    assert "closed" in response.content.decode().lower()
    assert not Customer.objects.exists()
    assert "/accounts/signup/" not in client.get("/").content.decode()


def test_the_header_shows_the_balance_and_the_customers_own_language(client) -> None:
    customer, _ = make_customer(balance="12.5", username="carol")
    customer_preferences_update(customer=customer, time_zone="Europe/Istanbul", language="tr")
    client.force_login(customer.user)
    page = client.get("/accounts/email/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "12.50 USD" in html
    assert '<html lang="tr">' in html


def test_preferences_refuse_what_they_do_not_know() -> None:
    customer, _ = make_customer(username="dave")
    with pytest.raises(PanelError):
        customer_preferences_update(customer=customer, time_zone="Mars/Olympus", language="")
    with pytest.raises(PanelError):
        customer_preferences_update(customer=customer, time_zone="", language="xx")
    customer.refresh_from_db()
    assert (customer.time_zone, customer.language) == ("", "")


def test_the_footer_switch_changes_a_customers_saved_language(client) -> None:
    customer, _ = make_customer(username="frank")
    customer_preferences_update(customer=customer, time_zone="", language="tr")
    client.force_login(customer.user)
    response = client.post("/language", {"language": "en", "next": "/account"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.language == "en"
    assert '<html lang="en">' in client.get("/account").content.decode()


def test_a_visitor_switches_language_by_cookie_alone(client) -> None:
    response = client.post("/language", {"language": "tr", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="tr">' in client.get("/").content.decode()
