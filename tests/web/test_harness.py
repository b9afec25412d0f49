"""The browser harness itself, on the pages that exist: the front page, the admin's login."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests.web.harness import PHONE, CustomerPerson, Person, admin_log_in, keep_artifacts

HEADLINE = "Followers, likes, views and comments, delivered"


def test_the_front_page_opens(page: Page, base_url: str) -> None:
    response = page.goto("/")
    assert response is not None and response.status == 200
    expect(page).to_have_title("Social media services · smmpanel")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADLINE)
    # The page names the API's address as the browser reached it.
    expect(page.get_by_text(f"{base_url}/api/v2").first).to_be_visible()


@pytest.mark.browser_context_args(viewport=PHONE)
def test_the_front_page_fits_a_phone(page: Page) -> None:
    page.goto("/")
    assert page.viewport_size == PHONE
    expect(page.get_by_role("heading", name=HEADLINE, level=1)).to_be_in_viewport()
    # The menu folds into its button on a phone.
    expect(page.get_by_role("button", name="Menu")).to_be_visible()


def test_an_operator_logs_into_the_admin(page: Page, staff: Person) -> None:
    admin_log_in(page, staff)
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    expect(page.locator("#user-tools")).to_contain_text(f"Welcome, {staff.username}")


def test_a_wrong_password_is_refused_and_logs_nobody_in(page: Page, staff: Person) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_contain_text("correct username and password")
    page.goto("/admin/")
    expect(page).to_have_url("/admin/login/?next=/admin/")


def test_log_in_gives_the_page_a_session(
    page: Page, staff: Person, log_in: Callable[[Person], None]
) -> None:
    log_in(staff)
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_log_in_a_customer(
    page: Page, customer: CustomerPerson, log_in: Callable[[Person], None]
) -> None:
    log_in(customer)
    # No customer pages yet: the admin knows who it is, and that they are not staff.
    page.goto("/admin/")
    expect(page.locator(".errornote")).to_contain_text(
        f"You are authenticated as {customer.username}, but are not authorized"
    )


def test_the_orm_works_beside_the_browser(page: Page, staff: Person) -> None:
    page.goto("/")
    # Playwright's loop runs in this thread now; Django is told that is fine (conftest).
    get_user_model().objects.create_user("second", password="x")
    assert get_user_model().objects.count() == 2


def test_a_failure_keeps_the_screenshot_and_the_html(
    page: Page, request: pytest.FixtureRequest
) -> None:
    page.goto("/")
    said = keep_artifacts(request.node, page)
    png, html = (Path(line.split(": ", 1)[1]) for line in said.splitlines()[1:3])
    try:
        assert "var/test-artifacts" in str(png)
        assert png.read_bytes().startswith(b"\x89PNG")
        assert HEADLINE in html.read_text()
    finally:
        png.unlink(missing_ok=True)
        html.unlink(missing_ok=True)
