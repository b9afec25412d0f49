"""The orders pages in a real browser (Debian's Chromium, tests/web/conftest.py's harness):
cancel an order from the list, and open each list page.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

# The harness (tests/web/conftest.py and harness.py: the live server, `page` on Debian's
# Chromium, `log_in`) comes with pytest-playwright; without it there is nothing to run on.
pytest.importorskip("tests.web.harness", reason="the browser-test harness is not here")

from playwright.sync_api import Page, expect

from smmpanel.accounts.models import Customer
from smmpanel.catalog.models import ServiceType
from smmpanel.orders.models import Order
from smmpanel.orders.services import order_transition, refill_request
from smmpanel.orders.states import OrderStatus
from tests.factories import make_customer, make_service
from tests.orders.helpers import params_for, place

S = OrderStatus


@pytest.fixture
def buyer(transactional_db: None) -> Customer:
    customer, _ = make_customer("100", username="buyer")
    return customer


def test_a_customer_cancels_an_order_from_the_list(
    page: Page, buyer: Customer, log_in: Callable[[Any], None]
) -> None:
    service = make_service(rate="2.00", cancel=True, name="Instagram Likes")
    order = place(buyer, service, link="https://instagram.com/p/cancel-me", quantity="1000")
    log_in(buyer.user)
    page.goto("/orders")
    expect(page.locator("#balance")).to_have_text("98.00 USD")
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text("Pending")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Order #{order.pk} is canceled and its charge is back on your balance."
    )
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("Canceled")
    expect(page.locator(f"#order-{order.pk}").get_by_role("button")).to_have_count(0)
    expect(page.locator("#balance")).to_have_text("100.00 USD")
    assert Order.objects.get(pk=order.pk).status == S.CANCELED
    assert Customer.objects.get(pk=buyer.pk).balance == Decimal("100.00000")


def test_a_cancel_the_customer_takes_back_changes_nothing(
    page: Page, buyer: Customer, log_in: Callable[[Any], None]
) -> None:
    order = place(
        buyer, make_service(rate="2.00", cancel=True), link="https://x.test/a", quantity="1000"
    )
    log_in(buyer.user)
    page.goto("/orders")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator(f"#order-{order.pk}").get_by_role("button", name="Cancel").click()
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("Pending")
    assert Order.objects.get(pk=order.pk).status == S.PENDING


def test_each_list_page_opens_with_its_rows(
    page: Page, buyer: Customer, log_in: Callable[[Any], None]
) -> None:
    refillable = make_service(rate="0", refill=True, name="Followers with refill")
    done = place(buyer, refillable, link="https://x.test/done", quantity="100")
    order_transition(order_id=done.pk, to=S.COMPLETED, actor="test")
    refill = refill_request(customer=buyer, order_id=done.pk)
    drip = place(
        buyer, make_service(rate="0", dripfeed=True), link="https://x.test/drip",
        quantity="100", runs="4", interval="15",
    )  # fmt: skip
    subscription = place(
        buyer, make_service(type=ServiceType.SUBSCRIPTIONS, rate="0", cancel=True),
        **params_for(ServiceType.SUBSCRIPTIONS),
    )  # fmt: skip
    log_in(buyer.user)
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    for name, url, heading, row in (
        ("All orders", "/orders", "Orders", f"#order-{done.pk}"),
        ("Drip-feed", "/orders/dripfeeds", "Drip-feed", f"#order-{drip.pk}"),
        ("Subscriptions", "/orders/subscriptions", "Subscriptions", f"#order-{subscription.pk}"),
        ("Refills", "/orders/refills", "Refills", f"#refill-{refill.pk}"),
    ):
        page.get_by_role("navigation", name="Orders pages").get_by_role("link", name=name).click()
        expect(page).to_have_url(url)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.locator(row)).to_be_visible()
    page.goto("/orders")  # its refill is open: no second one is offered
    expect(page.locator(f"#order-{done.pk}").get_by_role("button", name="Refill")).to_have_count(0)
    page.goto("/orders/subscriptions")
    expect(
        page.locator(f"#order-{subscription.pk}").get_by_role("button", name="Stop")
    ).to_be_visible()
    page.goto("/orders/dripfeeds")
    expect(page.locator(f"#order-{drip.pk}")).to_contain_text("0 of 4")
    # An order's own page, from its id in the list, with its refill history.
    page.goto("/orders")
    page.locator(f"#order-{done.pk}").get_by_role("link", name=str(done.pk)).click()
    expect(page.get_by_role("heading", name=f"Order #{done.pk}")).to_be_visible()
    expect(page.locator(f"#refill-{refill.pk}")).to_contain_text("Pending")


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844})
def test_the_orders_page_on_a_phone(
    page: Page, buyer: Customer, log_in: Callable[[Any], None]
) -> None:
    order = place(
        buyer, make_service(rate="1", cancel=True), link="https://x.test/p", quantity="100"
    )
    log_in(buyer.user)
    page.goto("/orders")
    expect(page.get_by_role("heading", name="Orders", level=1)).to_be_in_viewport()
    # The table scrolls sideways inside its card; the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(f"#order-{order.pk}").get_by_role(
        "button", name="Cancel"
    ).scroll_into_view_if_needed()
    expect(page.locator(f"#order-{order.pk}").get_by_role("button", name="Cancel")).to_be_visible()
