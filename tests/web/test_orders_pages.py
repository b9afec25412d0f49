"""The orders, drip-feed, subscriptions and refills pages, and an order's own page: what they
list, how they page, which buttons they offer, and that those buttons do what the API does.

Real database, Django's test client through the whole stack; the worker and a real simulator
over loopback where a cancel has to go upstream.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smmpanel.accounts.models import Customer
from smmpanel.accounts.services import customer_preferences_update
from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.catalog.models import Service, ServiceType
from smmpanel.orders.models import ForwardState, Order, OrderEvent, Refill
from smmpanel.orders.services import (
    order_cancel_request,
    order_progress,
    order_transition,
    refill_request,
)
from smmpanel.orders.states import OrderStatus, RefillStatus
from smmpanel.orders.subscriptions import subscription_deliver_post
from tests.factories import make_customer, make_service
from tests.fulfillment import conftest as upstream
from tests.orders.helpers import params_for, place

pytestmark = pytest.mark.django_db

# A real simulator on loopback, a provider at it and a worker (tests/fulfillment's fixtures).
sim, provider, worker = upstream.sim, upstream.provider, upstream.worker

S = OrderStatus
T = ServiceType


# -- helpers ----------------------------------------------------------------------------------


def login(client: Client, customer: Customer) -> Client:
    client.force_login(customer.user)
    return client


def html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def rows(page: str) -> list[int]:
    """The order ids a list shows, top to bottom."""
    return [int(n) for n in re.findall(r'<tr id="order-(\d+)"', page)]


def refill_rows(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="refill-(\d+)"', page)]


def row_html(page: str, order_id: int) -> str:
    match = re.search(rf'<tr id="order-{order_id}">(.*?)</tr>', page, re.S)
    assert match, f"order {order_id} is not on the page"
    return match.group(1)


def buttons(page: str, order_id: int) -> set[str]:
    return set(re.findall(r'data-action="(\w+)"', row_html(page, order_id)))


def balance(customer: Customer) -> Decimal:
    return Customer.objects.values_list("balance", flat=True).get(pk=customer.pk)


def cursor(page: str, name: str) -> int | None:
    match = re.search(rf'href="\?(?:[^"]*&amp;)?{name}=(\d+)"', page)
    return int(match.group(1)) if match else None


def bulk_orders(customer: Customer, service: Service, n: int, **fields) -> list[int]:
    """`n` free orders written in one go (no charge, so no ledger entry is owed)."""
    created = Order.objects.bulk_create(
        Order(
            customer=customer,
            service=service,
            type=service.type,
            link=f"https://bulk.example/{i}",
            quantity=100,
            charged_quantity=100,
            remains=100,
            rate=Decimal("0"),
            **fields,
        )
        for i in range(n)
    )
    return [o.pk for o in created]


@pytest.fixture
def me():
    customer, _ = make_customer("100", username="me")
    return customer


@pytest.fixture
def web(client, me) -> Client:
    return login(client, me)


# -- the orders page --------------------------------------------------------------------------


def test_the_orders_page_shows_each_orders_facts(web, me):
    customer_preferences_update(customer=me, time_zone="Asia/Tokyo", language="")
    service = make_service(rate="1.50", name="Instagram Likes")
    order = place(me, service, link="https://instagram.com/p/one", quantity="200")
    order_progress(order_id=order.pk, actor="test", start_count=1234, remains=150)
    Order.objects.filter(pk=order.pk).update(created_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    page = html(web, "/orders")
    row = row_html(page, order.pk)
    assert "2026-03-02 07:30" in row  # 22:30 UTC is 07:30 the next day in Tokyo
    assert "https://instagram.com/p/one" in row
    assert "Instagram Likes" in row
    assert ">200<" in row and ">1234<" in row and ">150<" in row
    assert ">0.30<" in row  # 200 at 1.50 per 1000
    assert "In progress" in row


def test_the_status_tabs_show_one_status_each(web, me):
    service = make_service(rate="0")
    by_status: dict[str, int] = {}
    for status in (S.PENDING, S.IN_PROGRESS, S.PROCESSING, S.COMPLETED, S.PARTIAL, S.CANCELED):
        link = f"https://x.test/{status.replace(' ', '-')}"
        order = place(me, service, link=link, quantity="100")
        if status != S.PENDING:
            order_transition(
                order_id=order.pk,
                to=status,
                actor="test",
                remains=40 if status == S.PARTIAL else None,
            )
        by_status[status] = order.pk
    assert rows(html(web, "/orders")) == sorted(by_status.values(), reverse=True)
    for status, order_id in by_status.items():
        page = html(web, f"/orders?status={status.replace(' ', '+')}")
        assert rows(page) == [order_id], status
        assert re.search(rf'active" aria-current="page" href="[^"]*">{status}</a>', page)
    # A status that is not a tab: all of them, and a word that it was not understood.
    page = html(web, "/orders?status=Nonsense")
    assert len(rows(page)) == 6
    assert "no such status" in page


def test_search_finds_by_id_or_by_part_of_the_link(web, me):
    service = make_service(rate="0")
    a = place(me, service, link="https://instagram.com/p/sunset", quantity="100")
    b = place(me, service, link="https://tiktok.com/@dancer/video/abc", quantity="100")
    c = place(me, service, link=f"https://example.com/{a.pk}x", quantity="100")
    assert rows(html(web, f"/orders?q={b.pk}")) == [b.pk]
    assert rows(html(web, f"/orders?q=%23{b.pk}")) == [b.pk]
    assert rows(html(web, "/orders?q=SUNSET")) == [a.pk]
    assert rows(html(web, "/orders?q=tiktok.com/@dancer")) == [b.pk]
    # A number is an id or a part of a link.
    assert rows(html(web, f"/orders?q={a.pk}")) == [c.pk, a.pk]
    # Search and a tab together; then nothing found says so.
    order_transition(order_id=b.pk, to=S.COMPLETED, actor="test")
    assert rows(html(web, "/orders?status=Completed&q=tiktok")) == [b.pk]
    page = html(web, "/orders?status=Pending&q=tiktok")
    assert rows(page) == [] and "No orders match." in page


def test_a_search_finds_only_the_customers_own_orders(web, me):
    other, _ = make_customer("10")
    service = make_service(rate="0")
    theirs = place(other, service, link="https://x.test/secret", quantity="100")
    assert rows(html(web, f"/orders?q={theirs.pk}")) == []
    assert rows(html(web, "/orders?q=secret")) == []


def test_a_search_that_cannot_be_read_is_said_so(web, me):
    place(me, make_service(rate="0"), link="https://x.test/a", quantity="100")
    page = html(web, "/orders?q=a%00b")
    assert "cannot be read" in page and len(rows(page)) == 1


def test_keyset_pages_neither_repeat_nor_skip_an_order(web, me):
    service = make_service(rate="0")
    ids = sorted(bulk_orders(me, service, 123), reverse=True)
    seen: list[int] = []
    url = "/orders"
    pages = 0
    while True:
        page = html(web, url)
        shown = rows(page)
        assert len(shown) == (50 if pages < 2 else 23)
        seen += shown
        pages += 1
        older = cursor(page, "before")
        if older is None:
            break
        url = f"/orders?before={older}"
    assert seen == ids and pages == 3
    # And back the other way from the last page: the same pages, newest first.
    back: list[int] = []
    newer = cursor(page, "after")
    while newer is not None:
        page = html(web, f"/orders?after={newer}")
        back = rows(page) + back
        newer = cursor(page, "after")
    assert back + seen[100:] == ids


def test_keyset_pages_keep_the_tab_and_the_search(web, me):
    service = make_service(rate="0")
    bulk_orders(me, service, 60, status=S.COMPLETED)
    bulk_orders(me, service, 60)
    page = html(web, "/orders?status=Completed&q=bulk")
    older = re.search(r'href="\?([^"]*before=\d+)"', page)
    assert older and "status=Completed" in older.group(1) and "q=bulk" in older.group(1)
    second = html(web, "/orders?" + older.group(1).replace("&amp;", "&"))
    completed = set(Order.objects.filter(status=S.COMPLETED).values_list("id", flat=True))
    assert len(rows(second)) == 10 and set(rows(second)) <= completed


def test_a_page_link_that_is_not_a_number_shows_the_newest(web, me):
    ids = bulk_orders(me, make_service(rate="0"), 3)
    page = html(web, "/orders?before=abc")
    assert rows(page) == sorted(ids, reverse=True) and "not valid" in page


def test_runs_and_posts_are_under_their_order_not_in_the_list(web, me):
    subscription = place(
        me, make_service(type=T.SUBSCRIPTIONS, rate="1"), **params_for(T.SUBSCRIPTIONS)
    )
    post = subscription_deliver_post(
        order_id=subscription.pk, link="https://instagram.com/p/new", quantity=150, actor="test"
    )
    assert rows(html(web, "/orders")) == [subscription.pk]
    # A post's id is still found, as the API's `status` finds it.
    assert rows(html(web, f"/orders?q={post.pk}")) == [post.pk]
    detail = html(web, f"/orders/{subscription.pk}")
    assert f'id="order-{post.pk}"' in detail


def test_an_empty_list_says_so(web):
    for url, words in (
        ("/orders", "You have no orders yet."),
        ("/orders/dripfeeds", "You have no drip-feed orders."),
        ("/orders/subscriptions", "You have no subscriptions."),
        ("/orders/refills", "You have asked for no refill."),
    ):
        assert words in html(web, url), url


# -- the buttons ------------------------------------------------------------------------------


def test_buttons_show_exactly_where_the_services_take_the_request(web, me):
    refillable = make_service(rate="0", refill=True, cancel=False)
    no_refill = make_service(rate="0", refill=False, cancel=False)
    cancelable = make_service(rate="0", refill=True, cancel=True)
    no_cancel = make_service(rate="0", refill=False, cancel=False)
    subscriptions = make_service(type=T.SUBSCRIPTIONS, rate="0", cancel=True, refill=True)
    n = iter(range(100))

    def new(service: Service, to: str | None = None, **kw) -> Order:
        order = place(me, service, link=f"https://x.test/{next(n)}", quantity="100")
        if to is not None:
            order_transition(order_id=order.pk, to=to, actor="test", **kw)
        return order

    completed = new(refillable, S.COMPLETED)
    partial = new(refillable, S.PARTIAL, remains=30)
    too_late = new(refillable, S.COMPLETED)
    Order.objects.filter(pk=too_late.pk).update(
        finished_at=timezone.now() - timedelta(days=refillable.refill_days, minutes=1)
    )
    refilling = new(refillable, S.COMPLETED)
    refill_request(customer=me, order_id=refilling.pk)
    refill_done = new(refillable, S.COMPLETED)
    Refill.objects.filter(pk=refill_request(customer=me, order_id=refill_done.pk).pk).update(
        status=RefillStatus.COMPLETED
    )
    not_refillable = new(no_refill, S.COMPLETED)
    running = new(refillable, S.IN_PROGRESS)
    pending = new(cancelable)
    started = new(cancelable, S.IN_PROGRESS)
    asked = new(cancelable, S.IN_PROGRESS)
    order_cancel_request(customer=me, order_id=asked.pk)
    canceled = new(cancelable, S.CANCELED)
    uncancelable = new(no_cancel)
    subscription = place(me, subscriptions, **params_for(T.SUBSCRIPTIONS))
    expected = {
        completed: {"refill"},
        partial: {"refill"},
        too_late: set(),
        refilling: set(),
        refill_done: {"refill"},
        not_refillable: set(),
        running: set(),
        pending: {"cancel"},
        started: {"cancel"},
        asked: set(),
        canceled: set(),
        uncancelable: set(),
        subscription: {"cancel"},
    }
    page = html(web, "/orders")
    shown = {order: buttons(page, order.pk) for order in expected}
    assert shown == expected
    for order in expected:  # and an order's own page offers the same
        detail = html(web, f"/orders/{order.pk}")
        assert set(re.findall(r'data-action="(\w+)"', detail)) == expected[order], order

    # Every button does what it says, every missing one would have been refused.
    for order, offered in shown.items():
        before = Refill.objects.filter(order=order).count()
        web.post(f"/orders/{order.pk}/refill", {"next": "/orders"})
        assert (Refill.objects.filter(order=order).count() > before) == ("refill" in offered)
    for order, offered in shown.items():
        events = OrderEvent.objects.filter(order=order).count()
        web.post(f"/orders/{order.pk}/cancel", {"next": "/orders"})
        changed = OrderEvent.objects.filter(order=order).count() > events
        assert changed == ("cancel" in offered), order


def test_the_subscription_button_says_stop_and_stops_it(web, me):
    service = make_service(type=T.SUBSCRIPTIONS, rate="1", cancel=True)
    subscription = place(me, service, **params_for(T.SUBSCRIPTIONS))
    page = html(web, "/orders/subscriptions")
    assert ">Stop<" in row_html(page, subscription.pk)
    response = web.post(
        f"/orders/{subscription.pk}/cancel", {"next": "/orders/subscriptions"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/orders/subscriptions"
    assert f"Subscription #{subscription.pk} is stopped." in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert not LedgerEntry.objects.filter(order=subscription, kind=EntryKind.REFUND).exists()


# -- the buttons do what the API does ---------------------------------------------------------


def test_cancel_of_an_order_nobody_started_refunds_it_at_once(web, me):
    order = place(me, make_service(rate="2.00"), link="https://x.test/a", quantity="1000")
    assert balance(me) == Decimal("98.00000")
    response = web.post(f"/orders/{order.pk}/cancel", {"next": "/orders?status=Pending"})
    assert response.status_code == 302 and response["Location"] == "/orders?status=Pending"
    page = html(web, "/orders")
    assert f"Order #{order.pk} is canceled and its charge is back on your balance." in page
    assert "100.00 USD" in page  # the header's balance
    order.refresh_from_db()
    assert order.status == S.CANCELED
    refunds = LedgerEntry.objects.filter(order=order, kind=EntryKind.REFUND)
    assert [r.amount for r in refunds] == [Decimal("2.00000")]
    assert balance(me) == Decimal("100.00000")


def test_cancel_of_an_order_at_a_provider_is_a_request_refunded_once_the_worker_settles(
    client, sim, provider, worker
):
    sim.configure(start_delay=60)  # stays Pending upstream until canceled
    customer, _ = make_customer("100")
    web = login(client, customer)
    service = upstream.service_of(provider, T.DEFAULT)
    Service.objects.filter(pk=service.pk).update(cancel=True)
    order = upstream.place(customer, service, quantity="1000")
    charged = balance(customer)
    upstream.drive(
        worker, lambda: Order.objects.get(pk=order.pk).forward_state == ForwardState.SENT
    )
    assert buttons(html(web, "/orders"), order.pk) == {"cancel"}

    response = web.post(f"/orders/{order.pk}/cancel", {"next": "/orders"}, follow=True)
    page = response.content.decode()
    assert f"Cancel requested for order #{order.pk}." in page
    assert buttons(page, order.pk) == set()  # asked once; the API refuses a second ask
    order.refresh_from_db()
    assert order.status == S.PENDING and order.cancel_requested_at is not None
    assert balance(customer) == charged  # nothing back yet: the provider has not confirmed

    upstream.drive(worker, lambda: Order.objects.get(pk=order.pk).status == S.CANCELED)
    order.refresh_from_db()
    refunds = LedgerEntry.objects.filter(order=order, kind=EntryKind.REFUND)
    assert [r.amount for r in refunds] == [order.charge]
    assert balance(customer) == Decimal("100.00000")
    assert sim.order(order.provider_order_id)["status"] == "Canceled"


def test_refill_asks_for_a_refill_the_refills_page_then_lists(web, me):
    order = place(me, make_service(rate="0", refill=True), link="https://x.test/r", quantity="100")
    order_transition(order_id=order.pk, to=S.COMPLETED, actor="test")
    response = web.post(f"/orders/{order.pk}/refill", {"next": f"/orders/{order.pk}"}, follow=True)
    refill = Refill.objects.get(order=order)
    page = response.content.decode()
    assert f"Refill #{refill.pk} requested for order #{order.pk}." in page
    assert refill_rows(page) == [refill.pk]  # the order's refill history
    assert buttons(html(web, "/orders"), order.pk) == set()  # one open refill per order
    assert refill_rows(html(web, "/orders/refills")) == [refill.pk]


def test_a_refused_request_is_said_in_words_and_changes_nothing(web, me):
    order = place(
        me,
        make_service(rate="1", refill=True, cancel=False),
        link="https://x.test/a",
        quantity="100",
    )
    response = web.post(f"/orders/{order.pk}/refill", {"next": "/orders"}, follow=True)
    assert "The order is not completed." in response.content.decode()
    response = web.post(f"/orders/{order.pk}/cancel", {"next": "/orders"}, follow=True)
    assert "Cancel is not available for this service." in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.PENDING and order.cancel_requested_at is None
    assert not Refill.objects.exists()


def test_another_customers_order_is_not_found_and_nothing_changes(web, me):
    other, _ = make_customer("10")
    service = make_service(rate="1", refill=True, cancel=True)
    pending = place(other, service, link="https://x.test/p", quantity="1000")
    done = place(other, service, link="https://x.test/d", quantity="1000")
    order_transition(order_id=done.pk, to=S.COMPLETED, actor="test")
    events = OrderEvent.objects.count()
    assert web.get(f"/orders/{pending.pk}").status_code == 404
    assert web.post(f"/orders/{pending.pk}/cancel").status_code == 404
    assert web.post(f"/orders/{done.pk}/refill").status_code == 404
    assert web.post("/orders/99999999/cancel").status_code == 404
    assert web.post(f"/orders/{2**70}/refill").status_code == 404
    assert OrderEvent.objects.count() == events
    assert not Refill.objects.exists()
    pending.refresh_from_db()
    assert pending.status == S.PENDING and pending.cancel_requested_at is None
    assert balance(other) == Decimal("8.00000")


def test_a_post_goes_back_only_to_this_site(web, me):
    order = place(me, make_service(rate="0", cancel=True), link="https://x.test/a", quantity="100")
    response = web.post(f"/orders/{order.pk}/cancel", {"next": "https://evil.example/"})
    assert response["Location"] == "/orders"


def test_csrf_is_enforced_on_every_button(me):
    client = login(Client(enforce_csrf_checks=True), me)
    service = make_service(rate="1", refill=True, cancel=True)
    pending = place(me, service, link="https://x.test/p", quantity="1000")
    done = place(me, service, link="https://x.test/d", quantity="1000")
    order_transition(order_id=done.pk, to=S.COMPLETED, actor="test")
    assert client.post(f"/orders/{pending.pk}/cancel").status_code == 403
    assert client.post(f"/orders/{done.pk}/refill").status_code == 403
    pending.refresh_from_db()
    assert pending.status == S.PENDING and not Refill.objects.exists()
    # With the token the page's own form carries, the same posts go through.
    page = html(client, "/orders")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert (
        client.post(f"/orders/{pending.pk}/cancel", {"csrfmiddlewaretoken": token}).status_code
        == 302
    )
    assert (
        client.post(f"/orders/{done.pk}/refill", {"csrfmiddlewaretoken": token}).status_code == 302
    )
    pending.refresh_from_db()
    assert pending.status == S.CANCELED and Refill.objects.filter(order=done).exists()


def test_the_pages_are_a_customers(client, me):
    for url in ("/orders", "/orders/dripfeeds", "/orders/subscriptions", "/orders/refills"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    staff = get_user_model().objects.create_user("op", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/orders").status_code == 404
    order = place(me, make_service(rate="0", cancel=True), link="https://x.test/a", quantity="100")
    assert client.post(f"/orders/{order.pk}/cancel").status_code == 404
    assert Order.objects.get(pk=order.pk).status == S.PENDING


def test_buttons_only_post(web, me):
    order = place(me, make_service(rate="0", cancel=True), link="https://x.test/a", quantity="100")
    assert web.get(f"/orders/{order.pk}/cancel").status_code == 405
    assert Order.objects.get(pk=order.pk).status == S.PENDING


# -- the other lists ---------------------------------------------------------------------------


def test_the_dripfeed_page_shows_runs_done_of_runs(web, me):
    service = make_service(rate="1.00", dripfeed=True, cancel=True)
    dripfeed = place(me, service, link="https://x.test/d", quantity="100", runs="5", interval="30")
    place(me, service, link="https://x.test/plain", quantity="100")
    Order.objects.filter(pk=dripfeed.pk).update(completed_runs=2, status=S.IN_PROGRESS)
    page = html(web, "/orders/dripfeeds")
    assert rows(page) == [dripfeed.pk]
    row = row_html(page, dripfeed.pk)
    assert "2 of 5" in row and "30 min" in row and ">500<" in row and ">0.50<" in row
    assert buttons(page, dripfeed.pk) == {"cancel"}


def test_the_subscriptions_page_shows_posts_range_and_expiry(web, me):
    service = make_service(type=T.SUBSCRIPTIONS, rate="1", cancel=False)
    limited = place(
        me, service, username="alice", min="100", max="200", delay="0", posts="4",
        expiry="31/12/2099",
    )  # fmt: skip
    unlimited = place(me, service, username="bob", min="10", max="20", delay="0")
    subscription_deliver_post(
        order_id=limited.pk, link="https://x.test/p1", quantity=120, actor="t"
    )
    page = html(web, "/orders/subscriptions")
    assert rows(page) == [unlimited.pk, limited.pk]
    row = row_html(page, limited.pk)
    assert (
        "1 of 4" in row and "100\N{EN DASH}200" in row and "2099-12-31" in row and ">0.12<" in row
    )
    assert "0 (no limit)" in row_html(page, unlimited.pk)
    assert buttons(page, limited.pk) == set()  # the service takes no cancel: no stop either


def test_the_refills_page_lists_the_customers_refills_newest_first(web, me):
    other, _ = make_customer("10")
    service = make_service(rate="0", refill=True)
    mine = []
    for i, customer in enumerate((me, other, me)):
        order = place(customer, service, link=f"https://x.test/{i}", quantity="100")
        order_transition(order_id=order.pk, to=S.COMPLETED, actor="test")
        refill = refill_request(customer=customer, order_id=order.pk)
        if customer == me:
            mine.append(refill.pk)
    page = html(web, "/orders/refills")
    assert refill_rows(page) == sorted(mine, reverse=True)
    assert "Pending" in page


# -- a constant number of queries -------------------------------------------------------------


def _a_customer_with(n: int) -> Customer:
    """A customer with `n` of everything the pages list, some with buttons."""
    customer, _ = make_customer("1000")
    service = make_service(rate="0", refill=True, cancel=True)
    dripfeeds = make_service(rate="0", dripfeed=True, cancel=True)
    subscriptions = make_service(type=T.SUBSCRIPTIONS, rate="0", cancel=True)
    for i in range(n):
        order = place(customer, service, link=f"https://x.test/o{i}", quantity="100")
        if i % 3 == 0:
            order_transition(order_id=order.pk, to=S.COMPLETED, actor="test")
            refill_request(customer=customer, order_id=order.pk)
        place(
            customer, dripfeeds, link=f"https://x.test/d{i}", quantity="100", runs="2", interval="5"
        )
        sub = place(customer, subscriptions, **{**params_for(T.SUBSCRIPTIONS), "username": f"u{i}"})
        subscription_deliver_post(
            order_id=sub.pk, link=f"https://x.test/p{i}", quantity=100, actor="t"
        )
    return customer


PAGES = (
    "/orders",
    "/orders?status=Completed",
    "/orders?q=x.test",
    "/orders?before={last}",
    "/orders?after=1",
    "/orders/dripfeeds",
    "/orders/subscriptions",
    "/orders/refills",
    "/orders/{last}",
    "/orders/{subscription}",
)


def _queries(client: Client, customer: Customer) -> list[tuple[str, int]]:
    mine = Order.objects.filter(customer=customer, parent__isnull=True).order_by("-id")
    last = mine.filter(type=T.DEFAULT, runs__isnull=True)[0].pk
    subscription = mine.filter(type=T.SUBSCRIPTIONS)[0].pk
    counts = []
    login(client, customer)
    for url in PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url.format(last=last, subscription=subscription))
        assert response.status_code == 200, url
        counts.append((url, len(queries)))
    return counts


def test_every_page_costs_the_same_queries_for_3_orders_as_for_30():
    few = _queries(Client(), _a_customer_with(3))
    many = _queries(Client(), _a_customer_with(30))
    assert few == many
    # session, user, customer + the page's own: at most two for a list's rows and pages,
    # one for the open refills of the rows shown; an order's runs or posts and refills.
    assert max(n for _, n in few) <= 7, few
