"""New order and Mass order in a real browser: the live charge as it is typed, the order
placed and the new balance in the header; three lines of a mass order, one of them bad."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from playwright.sync_api import Page, expect

from smmpanel.catalog.models import Category, ServiceType
from smmpanel.orders.models import Order
from tests.factories import make_service
from tests.web.harness import CustomerPerson, Person


def _balance(person: CustomerPerson) -> Decimal:
    person.customer.refresh_from_db()
    return person.customer.balance


def test_place_a_default_and_a_custom_comments_order(
    page: Page, customer: CustomerPerson, log_in: Callable[[Person], None]
) -> None:
    category = Category.objects.create(name="Instagram")
    followers = make_service(name="Instagram Followers", rate="2.00", min=10, category=category)
    comments = make_service(
        name="Instagram Custom Comments",
        type=ServiceType.CUSTOM_COMMENTS,
        rate="15.00",
        min=1,
        max=100,
        category=category,
    )
    log_in(customer)
    page.goto("/order/new")
    expect(page.locator("#balance")).to_have_text("100.00 USD")

    # Choosing the service brings its form and terms, without a page load.
    page.get_by_label("Service").select_option(str(followers.pk))
    expect(page.locator("#service-rate")).to_have_text("2.00 USD")
    expect(page).to_have_url(re.compile(rf"/order/new\?.*\bservice={followers.pk}\b"))
    page.get_by_label("Link").fill("https://instagram.com/some.account")
    page.get_by_label("Quantity").fill("5")
    expect(page.locator("#charge")).to_contain_text("The minimum quantity is 10.")
    page.get_by_label("Quantity").fill("1500")
    expect(page.locator("#charge [data-charge]")).to_have_text("3.00 USD")
    expect(page.locator("#balance-after")).to_have_text("97.00 USD")
    page.get_by_role("button", name="Place order").click()

    order = Order.objects.get(service=followers)
    expect(page.locator("#messages")).to_contain_text(
        f"Order #{order.pk} placed: 3.00 USD charged. Your balance is now 97.00 USD."
    )
    expect(page.locator("#balance")).to_have_text("97.00 USD")
    assert order.charge == Decimal("3") and _balance(customer) == Decimal("97")

    # Custom Comments: no quantity to type; the comments are counted as they are typed.
    page.get_by_label("Service").select_option(str(comments.pk))
    expect(page.get_by_label("Quantity")).to_have_count(0)
    page.get_by_label("Link").fill("https://instagram.com/p/abc")
    page.get_by_label("Comments").fill("Great!\nLove it\n\nWow")
    expect(page.locator("#charge [data-charge]")).to_have_text("0.045 USD")
    expect(page.locator("#charge")).to_contain_text("3 units at 15.00 per 1000")
    page.get_by_role("button", name="Place order").click()

    expect(page.locator("#balance")).to_have_text("96.955 USD")
    placed = Order.objects.get(service=comments)
    assert placed.quantity == 3 and placed.charge == Decimal("0.045")
    assert _balance(customer) == Decimal("96.955")


def test_search_narrows_the_lists_as_it_is_typed(
    page: Page, customer: CustomerPerson, log_in: Callable[[Person], None]
) -> None:
    insta = Category.objects.create(name="Instagram", position=1)
    tiktok = Category.objects.create(name="TikTok", position=2)
    make_service(name="Instagram Likes", category=insta)
    make_service(name="TikTok Views", category=tiktok)
    log_in(customer)
    page.goto("/order/new")
    service = page.get_by_label("Service")
    expect(service.locator("option", has_text="Instagram Likes")).to_have_count(1)
    page.get_by_label("Search").fill("views")
    expect(service.locator("option", has_text="Instagram Likes")).to_have_count(0)
    expect(service.locator("option", has_text="TikTok Views")).to_have_count(1)
    # The search box kept its text and focus while the lists were swapped under it.
    expect(page.get_by_label("Search")).to_be_focused()
    expect(page.get_by_label("Search")).to_have_value("views")


def test_mass_order_three_lines_one_bad(
    page: Page, customer: CustomerPerson, log_in: Callable[[Person], None]
) -> None:
    likes = make_service(name="Likes", rate="1.00", min=10)
    views = make_service(name="Views", rate="0.50", min=100)
    log_in(customer)
    page.goto("/order/mass")
    page.get_by_label("Orders").fill(
        f"{likes.pk}|https://instagram.com/p/a|100\n"
        f"{views.pk}|https://youtu.be/b|50\n"
        f"{views.pk}|https://youtu.be/c|1000"
    )
    page.get_by_role("button", name="Place orders").click()

    expect(page.locator("#mass-summary")).to_contain_text(
        "Placed 2 of 3 orders, 0.60 USD charged in total."
    )
    first, second = Order.objects.order_by("id")
    expect(page.locator("#mass-line-1")).to_contain_text(f"Order #{first.pk} placed, 0.10 USD")
    expect(page.locator("#mass-line-2")).to_contain_text("The minimum quantity is 100.")
    expect(page.locator("#mass-line-3")).to_contain_text(f"Order #{second.pk} placed, 0.50 USD")
    expect(page.get_by_label("Orders")).to_have_value(f"{views.pk}|https://youtu.be/b|50")
    expect(page.locator("#balance")).to_have_text("99.40 USD")
    assert _balance(customer) == Decimal("99.4")
