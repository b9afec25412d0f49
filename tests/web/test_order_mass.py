"""Mass order: a line per order, each placed on its own; every line's result beside it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import LedgerEntry
from smmpanel.catalog.models import ServiceType
from smmpanel.orders.models import Order
from tests.factories import make_customer, make_service

pytestmark = pytest.mark.django_db

MASS = "/order/mass"


@pytest.fixture
def customer() -> Customer:
    customer, _ = make_customer(balance="10", username="alice")
    return customer


@pytest.fixture
def logged_in(client: Client, customer: Customer) -> Client:
    client.force_login(customer.user)
    return client


def _balance(customer: Customer) -> Decimal:
    customer.refresh_from_db()
    return customer.balance


def _line(html: str, number: int) -> str:
    match = re.search(rf'<tr id="mass-line-{number}".*?</tr>', html, re.S)
    assert match is not None, f"no result for line {number}"
    return match.group(0)


def _textarea(html: str) -> str:
    match = re.search(r'<textarea name="orders"[^>]*>(.*?)</textarea>', html, re.S)
    assert match is not None
    return match.group(1).strip()


def test_three_lines_one_bad_places_the_two_good_ones(
    logged_in: Client, customer: Customer
) -> None:
    likes = make_service(rate="1.00", min=10)
    views = make_service(rate="0.50", min=100)
    text = (
        f"{likes.pk}|https://instagram.com/p/a|100\n"
        "\n"  # blank lines are skipped, but the numbers stay the box's
        f"{views.pk}|https://youtu.be/b|50\n"
        f"{views.pk}|https://youtu.be/c|1000\n"
    )
    response = logged_in.post(MASS, {"orders": text})
    assert response.status_code == 302  # the results are shown on the page it leads to

    first, second = Order.objects.order_by("id")
    assert (first.service_id, first.link, first.quantity) == (
        likes.pk,
        "https://instagram.com/p/a",
        100,
    )
    assert (second.service_id, second.link, second.quantity) == (
        views.pk,
        "https://youtu.be/c",
        1000,
    )
    assert _balance(customer) == Decimal("10") - Decimal("0.1") - Decimal("0.5")
    assert LedgerEntry.objects.filter(order__isnull=False).count() == 2

    html = logged_in.get(response["Location"]).content.decode()
    assert "Placed 2 of 3 orders, 0.60 USD charged in total." in html
    assert f"Order #{first.pk} placed, 0.10 USD" in _line(html, 1)
    assert "Quantity: The minimum quantity is 100." in _line(html, 3)
    assert f"Order #{second.pk} placed, 0.50 USD" in _line(html, 4)
    assert "9.40 USD" in html  # the header's balance
    # The refused line is back in the box, whole, to be put right.
    assert _textarea(html) == f"{views.pk}|https://youtu.be/b|50"

    # A reload shows a fresh page: nothing is placed twice.
    again = logged_in.get(MASS).content.decode()
    assert "mass-results" not in again
    assert Order.objects.count() == 2


def test_each_kind_of_bad_line_is_said_in_words(logged_in: Client, customer: Customer) -> None:
    likes = make_service(rate="1.00")
    comments = make_service(type=ServiceType.CUSTOM_COMMENTS, rate="10", min=1, max=10)
    lines = [
        "just some words",
        "abc|https://x.com/a|100",
        "999999|https://x.com/a|100",
        f"{likes.pk}|not a link|100",
        f"{likes.pk}|https://x.com/a|lots",
        f"{comments.pk}|https://x.com/a|5",
        f"{likes.pk}|https://x.com/a|10000",  # 10.00: all the balance
        f"{likes.pk}|https://x.com/a?x=1|y|100",  # its link holds a bar; no funds left
    ]
    response = logged_in.post(MASS, {"orders": "\n".join(lines)}, follow=True)
    html = response.content.decode()
    assert "Write the line as service ID|link|quantity." in _line(html, 1)
    assert "Choose a service from the list." in _line(html, 2)
    assert "Choose a service from the list." in _line(html, 3)
    assert "Link: This link is not accepted." in _line(html, 4)
    assert "Quantity: Enter a whole number." in _line(html, 5)
    assert "Comments: This field is required." in _line(html, 6)
    assert "placed, 10.00 USD" in _line(html, 7)
    assert "Not enough funds on your balance." in _line(html, 8)
    assert Order.objects.count() == 1 and _balance(customer) == Decimal("0")


def test_too_many_lines_places_nothing(logged_in: Client, customer: Customer) -> None:
    likes = make_service(rate="0.01")
    text = "\n".join(f"{likes.pk}|https://x.com/{i}|100" for i in range(101))
    response = logged_in.post(MASS, {"orders": text})
    assert response.status_code == 200
    html = response.content.decode()
    assert "At most 100 orders at once; this has 101. Nothing was placed." in html
    assert 'id="id_orders_errors"' in html
    assert not Order.objects.exists() and _balance(customer) == Decimal("10")
    # An empty box is refused too.
    html = logged_in.post(MASS, {"orders": "  \n \n"}).content.decode()
    assert 'id="id_orders_errors"' in html


def test_a_hundred_lines_are_taken(logged_in: Client, customer: Customer) -> None:
    likes = make_service(rate="0.01")
    text = "\n".join(f"{likes.pk}|https://x.com/{i}|100" for i in range(100))
    html = logged_in.post(MASS, {"orders": text}, follow=True).content.decode()
    assert "Placed 100 of 100 orders, 0.10 USD charged in total." in html
    assert Order.objects.count() == 100 and _balance(customer) == Decimal("9.9")


def test_csrf_is_enforced(customer: Customer) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer.user)
    likes = make_service(rate="1")
    assert client.post(MASS, {"orders": f"{likes.pk}|https://x.com/a|100"}).status_code == 403
    assert not Order.objects.exists()


def test_anonymous_visitors_log_in_first(client: Client) -> None:
    assert client.get(MASS)["Location"].startswith("/accounts/login/")


def test_the_results_page_costs_the_same_for_3_or_30_lines(
    logged_in: Client, customer: Customer
) -> None:
    likes = make_service(rate="0.01")

    def results_queries(n: int) -> int:
        text = "\n".join(f"{likes.pk}|https://x.com/{n}-{i}|100" for i in range(n))
        logged_in.post(MASS, {"orders": text})
        with CaptureQueriesContext(connection) as queries:
            html = logged_in.get(MASS).content.decode()
        assert f"Placed {n} of {n} orders" in html
        return len(queries)

    assert results_queries(3) == results_queries(30)
