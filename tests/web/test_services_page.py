"""The price list: public at the listed rate, a customer's own price once logged in,
filtered by text and category, in a constant number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smmpanel.accounts.models import CustomerRate
from smmpanel.accounts.services import customer_create
from smmpanel.catalog.models import Category, ServiceType
from tests.factories import make_service
from tests.web.pages import queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    insta = Category.objects.create(name="Instagram", position=1)
    tube = Category.objects.create(name="YouTube", position=2)
    hidden = Category.objects.create(name="Hidden", position=3, enabled=False)
    return {
        "followers": make_service(name="Insta Followers", rate="0.90", category=insta),
        "package": make_service(
            name="Insta Package", type=ServiceType.PACKAGE, rate="12.00", category=insta,
            min=1, max=1, refill=False, cancel=False, dripfeed=False,
        ),
        "views": make_service(name="Tube Views", rate="2.00", category=tube, refill=False),
        "off": make_service(name="Switched Off", category=tube, enabled=False),
        "hidden": make_service(name="In Hidden Category", category=hidden),
    }  # fmt: skip


def _row(html: str, service) -> str:
    start = html.index(f'id="service-{service.pk}"')
    return html[start : html.index("</tr>", start)]


def test_visitors_see_the_listed_rates_grouped_by_category(client, catalog) -> None:
    html = client.get("/services").content.decode()
    assert "0.90 USD" in _row(html, catalog["followers"])
    assert "2.00 USD" in _row(html, catalog["views"])
    package = _row(html, catalog["package"])
    assert "12.00 USD" in package and "per package" in package
    listed = html[html.index('id="price-list"') :]
    assert listed.index("Instagram") < listed.index("Insta Followers") < listed.index("YouTube")
    assert "Switched Off" not in html and "In Hidden Category" not in html
    assert "log in to see yours" in html
    followers = _row(html, catalog["followers"])
    assert "Refill" in followers and "Cancel" in followers and "Drip-feed" in followers
    assert "Refill" not in _row(html, catalog["views"])


def test_a_discounted_customer_sees_their_own_prices(client, catalog) -> None:
    customer, _ = customer_create(username="vip", discount_percent="10")
    CustomerRate.objects.create(customer=customer, service=catalog["views"], rate=Decimal("1.23"))
    client.force_login(customer.user)
    html = client.get("/services").content.decode()
    assert "0.81 USD" in _row(html, catalog["followers"])  # 10 % off 0.90
    assert "10.80 USD" in _row(html, catalog["package"])
    assert "1.23 USD" in _row(html, catalog["views"])  # the custom rate, not the discount
    # A visitor still sees the listed prices.
    client.logout()
    public = client.get("/services").content.decode()
    assert "0.90 USD" in _row(public, catalog["followers"])
    assert "0.81 USD" not in public


def test_the_search_box_and_the_category_filter(client, catalog) -> None:
    by_text = client.get("/services?q=tube").content.decode()
    assert "Tube Views" in by_text and "Insta Followers" not in by_text
    by_id = client.get(f"/services?q={catalog['package'].pk}").content.decode()
    assert 'id="service-' + str(catalog["package"].pk) + '"' in by_id
    insta = catalog["followers"].category_id
    by_category = client.get(f"/services?category={insta}").content.decode()
    assert "Insta Followers" in by_category and "Tube Views" not in by_category
    nothing = client.get("/services?q=zzzz").content.decode()
    assert "No service matches your search." in nothing
    # Nonsense filters are ignored, not errors.
    assert client.get("/services?category=abc&q=" + "x" * 500).status_code == 200


def test_an_empty_catalog_says_so(client) -> None:
    assert "No services are on sale yet." in client.get("/services").content.decode()


def test_the_page_costs_the_same_queries_whatever_the_catalog(client, catalog) -> None:
    customer, _ = customer_create(username="counter", discount_percent="5")
    public_small = queries(client, "/services")
    client.force_login(customer.user)
    customer_small = queries(client, "/services")
    for n in range(30):
        category = Category.objects.create(name=f"Cat {n}", position=10 + n)
        make_service(name=f"Service {n}", category=category)
    assert queries(client, "/services") == customer_small
    client.logout()
    assert queries(client, "/services") == public_small


def test_services_is_in_both_menus(client, catalog) -> None:
    assert 'href="/services"' in client.get("/services").content.decode()
    customer, _ = customer_create(username="menu")
    client.force_login(customer.user)
    assert 'href="/services"' in client.get("/tickets").content.decode()
