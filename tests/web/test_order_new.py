"""New order: the service picker, each type's fields, the live charge at the customer's own
price, placing through order_place with its errors beside the field, and the page's cost."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smmpanel.accounts.models import Customer, CustomerRate
from smmpanel.accounts.services import customer_create
from smmpanel.billing.models import LedgerEntry
from smmpanel.catalog.models import Category, ServiceType
from smmpanel.orders.models import Order
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.selectors import average_completion
from smmpanel.orders.services import order_fulfil, order_place
from smmpanel.orders.states import OrderStatus
from tests.factories import make_customer, make_service

pytestmark = pytest.mark.django_db

T = ServiceType
NEW = "/order/new"
CHARGE = "/order/new/charge"


@pytest.fixture
def customer() -> Customer:
    customer, _ = make_customer(balance="100", username="alice")
    return customer


@pytest.fixture
def logged_in(client: Client, customer: Customer) -> Client:
    client.force_login(customer.user)
    return client


def _form_fields(html: str) -> list[str]:
    """The names of the order form's inputs, in page order (hidden ones left out)."""
    form = re.search(r'<form id="order-form".*?</form>', html, re.S)
    assert form is not None, "no order form on the page"
    names = re.findall(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"', form.group(0))
    return [n for n in names if n not in ("csrfmiddlewaretoken", "service")]


def _field_errors(html: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_errors">(.*?)</div>', html, re.S)
    return match.group(1) if match else ""


def _balance(customer: Customer) -> Decimal:
    customer.refresh_from_db()
    return customer.balance


# -- the picker ------------------------------------------------------------------------------


def test_a_customer_lands_on_new_order_after_logging_in(client: Client) -> None:
    customer_create(username="bob", password="a long secret 123", balance="5")
    response = client.post("/accounts/login/", {"login": "bob", "password": "a long secret 123"})
    assert response.status_code == 302
    assert response["Location"] == NEW
    page = client.get(NEW)
    assert page.status_code == 200
    # New order is the first entry of the customer's menu.
    links = re.findall(r'class="nav-link[^"]*"[^>]*href="([^"]+)"', page.content.decode())
    assert links[0] == NEW


def test_anonymous_visitors_log_in_first_and_staff_without_a_customer_get_404(
    client: Client,
) -> None:
    assert client.get(NEW)["Location"].startswith("/accounts/login/")
    staff = get_user_model().objects.create_user("op", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(NEW).status_code == 404
    assert client.post(CHARGE, {"service": "1"}).status_code == 404


def test_category_then_service_and_a_search_across_both(logged_in: Client) -> None:
    insta = Category.objects.create(name="Instagram", position=1)
    tiktok = Category.objects.create(name="TikTok", position=2)
    likes = make_service(name="Instagram Likes", category=insta)
    views = make_service(name="Instagram Views", category=insta)
    tt = make_service(name="TikTok Followers", category=tiktok)
    make_service(name="Hidden", category=tiktok, enabled=False)

    # The first category is chosen to start with; its services are listed.
    html = logged_in.get(NEW).content.decode()
    assert f'<option value="{insta.pk}" selected>' in html
    assert "Instagram Likes" in html and "TikTok Followers" not in html
    assert "Hidden" not in html

    # Without JavaScript the picker is a plain GET form: another category...
    html = logged_in.get(NEW, {"category": tiktok.pk}).content.decode()
    assert "TikTok Followers" in html and "Instagram Likes" not in html

    # ...a search across names and categories ("tok" is only in TikTok's)...
    html = logged_in.get(NEW, {"q": "tok"}).content.decode()
    assert "TikTok Followers" in html and "Instagram Likes" not in html
    html = logged_in.get(NEW, {"q": "views"}).content.decode()
    assert "Instagram Views" in html and "Instagram Likes" not in html
    # ...or by the service's id.
    html = logged_in.get(NEW, {"q": str(tt.pk)}).content.decode()
    assert f"{tt.pk} · TikTok Followers" in html and "Instagram Views" not in html

    # A chosen service shows its form; its category is selected with it.
    html = logged_in.get(NEW, {"service": likes.pk}).content.decode()
    assert f'<option value="{likes.pk}" selected>' in html
    assert 'id="order-form"' in html
    assert views.pk != likes.pk


def test_htmx_gets_only_the_part_it_swaps(logged_in: Client) -> None:
    service = make_service(name="Instagram Likes")
    lists = logged_in.get(
        NEW, {"q": "likes"}, headers={"HX-Request": "true", "HX-Target": "picker-lists"}
    )
    html = lists.content.decode()
    assert html.lstrip().startswith('<div id="picker-lists"')
    assert "<html" not in html and "Instagram Likes" in html

    area = logged_in.get(
        NEW, {"service": service.pk}, headers={"HX-Request": "true", "HX-Target": "service-area"}
    )
    html = area.content.decode()
    assert html.lstrip().startswith('<div id="service-area">')
    assert 'id="order-form"' in html and "<html" not in html


def test_an_empty_catalog_says_so(logged_in: Client) -> None:
    html = logged_in.get(NEW).content.decode()
    assert "No services are offered yet." in html


# -- the service's terms ---------------------------------------------------------------------


def test_the_service_panel_shows_the_customers_own_price_and_terms(client: Client) -> None:
    customer, _ = customer_create(username="dora", balance="10", discount_percent="10")
    client.force_login(customer.user)
    service = make_service(rate="2.00", min=50, max=20000, refill=True, cancel=False)
    service.description = "Real-looking accounts.\nStarts within an hour."
    service.save()
    html = client.get(NEW, {"service": service.pk}).content.decode()
    assert '<span class="fs-3 fw-semibold" id="service-rate">1.80 USD</span>' in html
    assert "the list price is 2.00 USD" in html
    assert "Refill 30 days" in html and "No cancel" in html and "Drip-feed" in html
    assert "20,000" in html and "Starts within an hour." in html
    assert "Not enough data yet" in html

    CustomerRate.objects.create(customer=customer, service=service, rate=Decimal("1.5"))
    html = client.get(NEW, {"service": service.pk}).content.decode()
    assert '<span class="fs-3 fw-semibold" id="service-rate">1.50 USD</span>' in html


def test_average_completion_time_of_the_last_completed_orders(
    logged_in: Client, customer: Customer
) -> None:
    service = make_service(rate="1")
    start = timezone.now() - dt.timedelta(days=1)
    with time_machine.travel(start, tick=False) as clock:
        for minutes in (60, 180):  # 1 h and 3 h: 2 h on average
            order = order_place(
                customer=customer,
                service_id=service.pk,
                params=OrderRequest(link=f"https://example.com/{minutes}", quantity=100),
            )
            clock.shift(dt.timedelta(minutes=minutes))
            order_fulfil(order_id=order.pk, to=OrderStatus.COMPLETED, actor="test")
    # A running order and another service's don't count.
    order_place(
        customer=customer,
        service_id=service.pk,
        params=OrderRequest(link="https://example.com/running", quantity=100),
    )
    assert average_completion(service.pk) == dt.timedelta(hours=2)
    assert average_completion(service.pk, sample=1) == dt.timedelta(hours=3)
    assert average_completion(make_service().pk) is None
    html = logged_in.get(NEW, {"service": service.pk}).content.decode()
    assert '<dd class="col-6 num" id="service-completion">2 hours</dd>' in html


# -- each type's fields ----------------------------------------------------------------------

FIELDS = {
    T.DEFAULT: ["link", "quantity", "runs", "interval"],
    T.PACKAGE: ["link"],
    T.CUSTOM_COMMENTS: ["link", "comments"],
    T.CUSTOM_COMMENTS_PACKAGE: ["link", "comments"],
    T.MENTIONS_WITH_HASHTAGS: ["link", "quantity", "usernames", "hashtags"],
    T.MENTIONS_CUSTOM_LIST: ["link", "usernames"],
    T.MENTIONS_HASHTAG: ["link", "quantity", "hashtag"],
    T.MENTIONS_USER_FOLLOWERS: ["link", "quantity", "username"],
    T.MENTIONS_MEDIA_LIKERS: ["link", "quantity", "media"],
    T.COMMENT_LIKES: ["link", "quantity", "username"],
    T.COMMENT_REPLIES: ["link", "username", "comments"],
    T.POLL: ["link", "quantity", "answer_number"],
    T.INVITES_FROM_GROUPS: ["link", "quantity", "groups"],
    T.SUBSCRIPTIONS: ["username", "min", "max", "delay", "posts", "old_posts", "expiry"],
}


def test_every_type_is_covered() -> None:
    assert set(FIELDS) == set(ServiceType)


@pytest.mark.parametrize("service_type", list(FIELDS))
def test_each_type_asks_for_exactly_its_fields(logged_in: Client, service_type: str) -> None:
    service = make_service(type=service_type, dripfeed=True)
    html = logged_in.get(NEW, {"service": service.pk}).content.decode()
    assert _form_fields(html) == FIELDS[service_type]


def test_runs_and_interval_only_where_the_service_offers_drip_feed(logged_in: Client) -> None:
    service = make_service(dripfeed=False)
    html = logged_in.get(NEW, {"service": service.pk}).content.decode()
    assert _form_fields(html) == ["link", "quantity"]
    assert "Drip-feed (optional)" not in html


# -- the live charge -------------------------------------------------------------------------


def test_the_live_charge_applies_the_discount(client: Client) -> None:
    customer, _ = customer_create(username="erin", balance="10", discount_percent="10")
    client.force_login(customer.user)
    service = make_service(rate="2.00")
    reply = client.post(
        CHARGE, {"service": service.pk, "link": "https://x.com/p", "quantity": "1500"}
    )
    html = reply.content.decode()
    assert reply.status_code == 200 and "<html" not in html
    assert 'data-charge="2.70000"' in html  # 1500 at 1.80 per 1000
    assert "1500 units at 1.80 per 1000" in html
    assert '<span id="balance-after">7.30 USD</span>' in html
    assert not Order.objects.exists() and _balance(customer) == Decimal("10")


def test_the_live_charge_shows_before_the_link_is_typed(logged_in: Client) -> None:
    service = make_service(rate="1.00")
    html = logged_in.post(CHARGE, {"service": service.pk, "quantity": "500"}).content.decode()
    assert 'data-charge="0.50000"' in html


def test_the_live_charge_counts_comments_runs_and_packages(logged_in: Client) -> None:
    comments = make_service(type=T.CUSTOM_COMMENTS, rate="15", min=1, max=100)
    html = logged_in.post(
        CHARGE, {"service": comments.pk, "comments": "nice\n\ngreat\n  wow  \n"}
    ).content.decode()
    assert 'data-charge="0.04500"' in html and "3 units" in html

    dripfeed = make_service(rate="1.00")
    html = logged_in.post(
        CHARGE, {"service": dripfeed.pk, "quantity": "100", "runs": "5", "interval": "10"}
    ).content.decode()
    assert 'data-charge="0.50000"' in html and "500 units" in html

    package = make_service(type=T.PACKAGE, rate="9.5", min=1, max=1)
    html = logged_in.post(CHARGE, {"service": package.pk}).content.decode()
    assert 'data-charge="9.50000"' in html and "One package" in html

    subscription = make_service(type=T.SUBSCRIPTIONS, rate="2", min=10, max=1000)
    html = logged_in.post(
        CHARGE, {"service": subscription.pk, "min": "100", "max": "300", "delay": "0"}
    ).content.decode()
    assert "Each post, up to" in html and "0.60 USD" in html


def test_the_live_charge_says_what_is_wrong(logged_in: Client, customer: Customer) -> None:
    service = make_service(rate="1.00", min=100)
    html = logged_in.post(CHARGE, {"service": service.pk, "quantity": "50"}).content.decode()
    assert "Quantity: The minimum quantity is 100." in html
    html = logged_in.post(CHARGE, {"service": service.pk, "quantity": "abc"}).content.decode()
    assert "Quantity: Enter a whole number." in html
    html = logged_in.post(CHARGE, {"service": service.pk}).content.decode()
    assert "Fill in the order to see its charge." in html
    html = logged_in.post(CHARGE, {"service": service.pk, "quantity": "200000"}).content.decode()
    assert "maximum quantity is 10000" in html
    # More than the balance holds: the words order_place would refuse with.
    html = logged_in.post(CHARGE, {"service": service.pk, "quantity": "10000"}).content.decode()
    assert 'data-charge="10.00000"' in html
    costly = make_service(rate="50")
    html = logged_in.post(CHARGE, {"service": costly.pk, "quantity": "10000"}).content.decode()
    assert 'id="charge-funds">Not enough funds on your balance.' in html
    html = logged_in.post(CHARGE, {"service": "999999", "quantity": "10"}).content.decode()
    assert "Choose a service from the list." in html


# -- placing ---------------------------------------------------------------------------------


def test_placing_a_default_order_debits_exactly_and_shows_the_new_balance(
    logged_in: Client, customer: Customer
) -> None:
    service = make_service(rate="0.90")
    response = logged_in.post(
        NEW, {"service": service.pk, "link": "https://instagram.com/p/abc", "quantity": "1000"}
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.service_id, order.link, order.quantity) == (
        service.pk,
        "https://instagram.com/p/abc",
        1000,
    )
    assert order.charge == Decimal("0.9") and _balance(customer) == Decimal("99.1")
    entry = LedgerEntry.objects.get(order=order)
    assert entry.amount == Decimal("-0.9")
    page = logged_in.get(response["Location"]).content.decode()
    assert f"Order #{order.pk} placed: 0.90 USD charged. Your balance is now 99.10 USD." in page
    assert 'id="balance"' in page and "99.10 USD</a>" in page


def test_placing_a_custom_comments_order_charges_its_lines(
    logged_in: Client, customer: Customer
) -> None:
    service = make_service(type=T.CUSTOM_COMMENTS, rate="15", min=1, max=100)
    response = logged_in.post(
        NEW,
        {"service": service.pk, "link": "https://instagram.com/p/x", "comments": "a\n\nb\nc\n"},
        follow=True,
    )
    order = Order.objects.get()
    assert order.quantity == 3 and order.charge == Decimal("0.045")
    assert order.comments.splitlines() == ["a", "", "b", "c"]
    assert _balance(customer) == Decimal("99.955")
    assert "Your balance is now 99.955 USD." in response.content.decode()


def test_placing_a_drip_feed_and_a_subscription(logged_in: Client, customer: Customer) -> None:
    dripfeed = make_service(rate="1")
    logged_in.post(
        NEW,
        {
            "service": dripfeed.pk,
            "link": "https://x.com/a",
            "quantity": "100",
            "runs": "3",
            "interval": "15",
        },
    )
    order = Order.objects.get()
    assert (order.runs, order.interval, order.charge) == (3, 15, Decimal("0.3"))

    subscription = make_service(type=T.SUBSCRIPTIONS, rate="2", min=10, max=1000)
    response = logged_in.post(
        NEW,
        {
            "service": subscription.pk,
            "username": "some.account",
            "min": "100",
            "max": "200",
            "delay": "30",
            "posts": "5",
            "expiry": (timezone.now().date() + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    sub = Order.objects.get(service=subscription)
    assert (sub.sub_min, sub.sub_max, sub.sub_delay, sub.sub_posts) == (100, 200, 30, 5)
    assert sub.charge == 0 and _balance(customer) == Decimal("99.7")


def _refused(client: Client, customer: Customer, data: dict[str, object]) -> str:
    """Post `data`; the page comes back with the form, and nothing was placed or charged."""
    before = _balance(customer)
    response = client.post(NEW, data)
    assert response.status_code == 200
    assert not Order.objects.exists()
    assert _balance(customer) == before
    return response.content.decode()


def test_errors_appear_beside_the_field_at_fault(logged_in: Client, customer: Customer) -> None:
    service = make_service(rate="1", min=100)
    html = _refused(
        logged_in, customer, {"service": service.pk, "link": "https://x.com/a", "quantity": "10"}
    )
    assert _field_errors(html, "quantity") == "The minimum quantity is 100."
    # What was typed is kept.
    assert 'value="https://x.com/a"' in html

    html = _refused(logged_in, customer, {"service": service.pk, "link": "<b>", "quantity": "100"})
    assert _field_errors(html, "link") == "This link is not accepted."

    comments = make_service(type=T.CUSTOM_COMMENTS, rate="15", min=1, max=2)
    html = _refused(logged_in, customer, {"service": comments.pk, "link": "https://x.com/a"})
    assert _field_errors(html, "comments") == "This field is required."
    # Too many lines: the quantity they count is at fault, shown beside the list.
    html = _refused(
        logged_in,
        customer,
        {"service": comments.pk, "link": "https://x.com/a", "comments": "a\nb\nc"},
    )
    assert _field_errors(html, "comments") == "The maximum quantity is 2."


def test_not_enough_funds_is_said_for_the_whole_form(client: Client) -> None:
    poor, _ = make_customer(balance="0.5", username="poor")
    client.force_login(poor.user)
    service = make_service(rate="1")
    html = _refused(
        client, poor, {"service": service.pk, "link": "https://x.com/a", "quantity": "1000"}
    )
    assert (
        '<div class="alert alert-danger" role="alert"><div>Not enough funds on your balance.'
        in html
    )


def test_a_service_not_offered_to_the_customer_is_refused(
    logged_in: Client, customer: Customer
) -> None:
    hidden = make_service(enabled=False)
    response = logged_in.post(
        NEW, {"service": hidden.pk, "link": "https://x.com/a", "quantity": "100"}, follow=True
    )
    assert "Choose a service from the list." in response.content.decode()
    assert not Order.objects.exists() and _balance(customer) == Decimal("100")


def test_csrf_is_enforced(customer: Customer) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer.user)
    service = make_service(rate="1")
    data = {"service": service.pk, "link": "https://x.com/a", "quantity": "100"}
    assert client.post(NEW, data).status_code == 403
    assert client.post(CHARGE, data).status_code == 403
    assert not Order.objects.exists() and _balance(customer) == Decimal("100")
    # With the token the page hands out, the same order goes through.
    page = client.get(NEW, {"service": service.pk})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    assert client.post(NEW, {**data, "csrfmiddlewaretoken": token.group(1)}).status_code == 302
    assert Order.objects.count() == 1


# -- the page's cost -------------------------------------------------------------------------


def _queries(client: Client, method: str, url: str, data: dict[str, object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data)
    assert response.status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_the_catalog_or_the_orders(
    logged_in: Client, customer: Customer
) -> None:
    category = Category.objects.create(name="Many")
    service = make_service(rate="0.01", category=category, max=100000)

    def grow(n: int) -> None:
        for i in range(n):
            make_service(category=category, name=f"Other {i}")
            order = order_place(
                customer=customer,
                service_id=service.pk,
                params=OrderRequest(link=f"https://x.com/{Order.objects.count()}", quantity=10),
            )
            order_fulfil(order_id=order.pk, to=OrderStatus.COMPLETED, actor="test")

    requests = [
        ("get", NEW, {}),
        ("get", NEW, {"service": service.pk}),
        ("get", NEW, {"q": "other", "service": service.pk}),
        ("post", CHARGE, {"service": service.pk, "quantity": "100"}),
        ("post", NEW, {"service": service.pk, "quantity": "1"}),  # refused: below min
    ]
    grow(3)
    few = [_queries(logged_in, *r) for r in requests]
    grow(30)
    many = [_queries(logged_in, *r) for r in requests]
    assert few == many
    assert max(many) <= 10


@pytest.mark.parametrize("service_type", [T.DEFAULT, T.SUBSCRIPTIONS])
def test_every_id_on_the_page_is_unique(logged_in: Client, service_type: str) -> None:
    # htmx finds the picker's parts by id: a second "id_service" once sent the wrong service.
    service = make_service(type=service_type)
    html = logged_in.get(NEW, {"service": service.pk}).content.decode()
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
