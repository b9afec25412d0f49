"""Tickets and the API page in a real browser: a customer asks about their order and follows
the thread while the operator answers in the admin; a new API key is shown once, and the
key it replaces stops working on /api/v2 at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from smmpanel.accounts.models import ApiKey
from smmpanel.core.money import format_money
from smmpanel.orders.models import Order
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place
from smmpanel.support.models import Ticket, TicketStatus
from tests.factories import make_service
from tests.web.harness import (
    TIMEOUT_MS,
    CustomerPerson,
    Person,
    admin_log_in,
    customer_log_in,
)


@pytest.fixture
def order(customer: CustomerPerson) -> Order:
    """An order of the customer's, placed the way the API and the pages place one."""
    service = make_service(name="Instagram Followers")
    return order_place(
        customer=customer.customer,
        service_id=service.pk,
        params=OrderRequest(link="https://instagram.com/p/Cxyz123", quantity=100),
        actor="web",
    )


def _balance(customer: CustomerPerson) -> str:
    customer.customer.refresh_from_db()
    return f"{customer.customer.balance:.2f} {customer.customer.currency}"


def test_a_ticket_about_an_order_its_replies_and_the_operators_answer(
    page: Page,
    new_context: Callable[..., BrowserContext],
    customer: CustomerPerson,
    staff: Person,
    order: Order,
) -> None:
    customer_log_in(page, customer)
    expect(page.locator("#balance")).to_have_text(_balance(customer))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    expect(page.locator(".empty-state")).to_contain_text("You have no tickets")
    page.locator(".empty-state").get_by_role("link", name="Open a ticket").click()

    form = page.locator("#ticket-form")
    form.get_by_label("Subject").fill("Followers not arriving")
    form.get_by_label("About").select_option(label="An order")
    form.get_by_label("Message").fill("It has been a day and nothing came.\nCan you look?")
    # Someone else's (or no) order: refused beside the field, nothing opened.
    form.get_by_label("Order ID").fill(str(order.pk + 1000))
    form.get_by_role("button", name="Send").click()
    expect(page.locator("#field-order .invalid-feedback")).to_have_text("Order not found.")
    expect(form.get_by_label("Subject")).to_have_value("Followers not arriving")
    assert not Ticket.objects.exists()

    form.get_by_label("Order ID").fill(str(order.pk))
    form.get_by_role("button", name="Send").click()
    ticket = Ticket.objects.get()
    expect(page).to_have_url(f"/tickets/{ticket.pk}")
    expect(page.locator(".alert-success")).to_contain_text(f"Ticket #{ticket.pk} is open")
    expect(page.get_by_role("heading", level=1)).to_have_text("Followers not arriving")
    expect(page.locator("main")).to_contain_text(f"order #{order.pk}")
    expect(page.locator("[data-status]")).to_have_text("Waiting for support")
    expect(page.locator("#thread .message-customer")).to_contain_text("nothing came")

    page.get_by_label("Your reply").fill("The link is public, by the way.")
    page.get_by_role("button", name="Reply").click()
    expect(page.locator("#thread .message")).to_have_count(2)
    expect(page.locator("#thread .message").last).to_contain_text("The link is public")
    expect(page.locator("[data-status]")).to_have_text("Waiting for support")

    # The operator finds it in the admin, reads the thread and answers in its last box.
    admin = new_context().new_page()
    admin.set_default_timeout(TIMEOUT_MS)
    admin_log_in(admin, staff)
    admin.goto("/admin/support/ticket/")
    listed = admin.locator("#result_list tbody tr")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Followers not arriving")
    expect(listed).to_contain_text(customer.username)
    listed.get_by_role("link", name=str(ticket.pk), exact=True).click()
    expect(admin.locator("main, #content").first).to_contain_text("The link is public")
    admin.locator("textarea:visible").last.fill("Restarted: they arrive within the hour.")
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text("was changed successfully")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED

    # The customer sees the answer and the new status, in the list and in the thread.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    row = page.locator("#tickets tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Followers not arriving")
    expect(row).to_contain_text(f"Order #{order.pk}")
    expect(row.locator("[data-status]")).to_have_text("Answered")
    expect(row).to_contain_text("by Support")
    row.get_by_role("link", name="Followers not arriving").click()
    expect(page.locator("#thread .message")).to_have_count(3)
    expect(page.locator("#thread .message-staff")).to_contain_text("within the hour")
    expect(page.locator("[data-status]")).to_have_text("Answered")

    page.get_by_role("button", name="Close ticket").click()
    expect(page.locator("[data-status]")).to_have_text("Closed")


def _api(page: Page, base_url: str, key: str, action: str) -> Any:
    response = page.request.post(f"{base_url}/api/v2", form={"key": key, "action": action})
    assert response.status == 200
    return response.json()


def test_a_new_api_key_is_shown_once_and_the_old_one_stops_working(
    page: Page, base_url: str, customer: CustomerPerson
) -> None:
    old = customer.api_key
    assert _api(page, base_url, old, "balance")["balance"] == format_money(
        customer.customer.balance
    )
    customer_log_in(page, customer)
    page.locator("nav .dropdown-toggle").click()
    page.locator("nav .dropdown-menu").get_by_role("link", name="API").click()
    expect(page).to_have_url("/api")
    keys = page.locator("#keys")
    expect(keys).to_contain_text(old[:8])
    # Only a prefix of a key is ever shown after the answer that made it.
    expect(page.locator("main")).not_to_contain_text(old)

    page.get_by_role("button", name="Make a new key (revokes the old one)").click()
    expect(page.locator("#new-key")).to_contain_text("it will not be shown again")
    new = page.get_by_label("API key").input_value()
    assert new != old and len(new) >= 32
    expect(page.locator("pre").first).to_contain_text(f"key={new}")  # in the examples too

    # The old key is refused at once; the new one works.
    assert _api(page, base_url, old, "balance") == {"error": "Invalid API key"}
    assert _api(page, base_url, new, "balance") == {
        "balance": format_money(customer.customer.balance),
        "currency": customer.customer.currency,
    }

    # Reloading that answer sends its form again: no other key is made, none is shown.
    page.reload()
    expect(page.locator("#sent-again")).to_be_visible()
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(new)
    assert _api(page, base_url, new, "balance")["currency"] == customer.customer.currency

    # Coming back to the page, the key is gone from it: only its prefix is listed.
    page.goto("/api")
    expect(page.locator("#sent-again")).to_have_count(0)
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(new)
    expect(keys).to_contain_text(new[:8])
    expect(keys).not_to_contain_text(old[:8])
    assert ApiKey.objects.filter(customer=customer.customer, is_active=True).count() == 1
