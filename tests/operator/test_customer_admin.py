"""Adding a customer from the admin: one form (username, e-mail, password or none, opening
balance, discount) that books the opening balance as a ledger deposit and shows the new API
key once."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import LedgerEntry

pytestmark = pytest.mark.django_db

ADD = reverse("admin:accounts_customer_add")


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("op", "op@example.com", "pw-op-12345")
    client.force_login(user)
    return client


def form_defaults(html: str) -> dict[str, str]:
    """The values the add form offers before the operator types anything."""
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)
        if name != "csrfmiddlewaretoken"
    }


def shown_key(html: str) -> str:
    match = re.search(r'<code id="api-key">([0-9a-f]{32})</code>', html)
    assert match, html
    return match.group(1)


def test_the_add_form_offers_every_field_and_its_own_defaults_validate(operator, api):
    page = operator.get(ADD)
    assert page.status_code == 200
    html = page.content.decode()
    for field in ("username", "email", "password", "opening_balance", "discount_percent"):
        assert f'name="{field}"' in html, field
    posted = {**form_defaults(html), "username": "alice"}
    response = operator.post(ADD, posted)
    assert response.status_code == 200
    assert "no more than" not in response.content.decode()
    alice = Customer.objects.get(user__username="alice")
    assert alice.discount_percent == 0 and alice.balance == 0
    assert not LedgerEntry.objects.filter(customer=alice).exists()
    assert api(shown_key(response.content.decode()), "balance")["balance"] == "0.00000"


def test_creating_a_customer_books_the_opening_balance_and_shows_a_working_key_once(operator, api):
    response = operator.post(
        ADD,
        {
            "username": "bob",
            "email": "bob@example.com",
            "password": "a long pass phrase 42",
            "opening_balance": "25.50",
            "discount_percent": "12.5",
            "currency": "USD",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    key = shown_key(html)
    assert "will not be shown again" in html
    assert response["Cache-Control"] and "no-store" in response["Cache-Control"]

    bob = Customer.objects.get(user__username="bob")
    assert bob.user.email == "bob@example.com"
    assert bob.user.check_password("a long pass phrase 42")
    assert bob.discount_percent == Decimal("12.50")
    (entry,) = LedgerEntry.objects.filter(customer=bob)
    assert (entry.kind, entry.amount, entry.balance_after) == (
        "deposit",
        Decimal("25.50000"),
        Decimal("25.50000"),
    )
    assert api(key, "balance") == {"balance": "25.50000", "currency": "USD"}

    # Shown once: nowhere on the customer's page, which the created page links to.
    change = reverse("admin:accounts_customer_change", args=[bob.pk])
    assert change in html
    assert key not in operator.get(change).content.decode()


def test_no_password_means_no_web_login(operator):
    operator.post(ADD, {"username": "carol", "opening_balance": "0", "discount_percent": "0"})
    carol = Customer.objects.get(user__username="carol")
    assert not carol.user.has_usable_password()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("username", "", "This field is required"),
        ("username", "op", "is taken"),
        ("username", "bad name!", "Enter a valid username"),
        ("opening_balance", "-1", "greater than or equal to 0"),
        ("opening_balance", "1.123456", "no more than 5 decimal places"),
        ("discount_percent", "100.01", "less than or equal to 100"),
        ("discount_percent", "-5", "greater than or equal to 0"),
        ("discount_percent", "1.005", "no more than 2 decimal places"),
        ("email", "not-an-address", "Enter a valid email address"),
        ("password", "123", "too short"),
    ],
)
def test_a_refused_form_creates_nothing_and_says_why(operator, field, value, words):
    data = {"username": "dave", "opening_balance": "10", "discount_percent": "0", field: value}
    response = operator.post(ADD, data)
    assert response.status_code == 200
    assert words in unescape(response.content.decode())
    assert not Customer.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_the_model_default_discount_is_a_valid_discount():
    """The root of it: the field's default had 5 decimal places in a 2-place field."""
    field = Customer._meta.get_field("discount_percent")
    field.clean(field.get_default(), None)


def test_the_console_takes_a_discount_too():
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "customer_create", "--username", "erin", "--discount", "7.5", stdout=out, stderr=err
    )
    assert Customer.objects.get(user__username="erin").discount_percent == Decimal("7.50")
    with pytest.raises(CommandError, match="at most 2 decimal places"):
        call_command("customer_create", "--username", "frank", "--discount", "1.234", stdout=out)
    with pytest.raises(CommandError, match="from 0 to 100"):
        call_command("customer_create", "--username", "frank", "--discount", "101", stdout=out)
    assert not Customer.objects.filter(user__username="frank").exists()
