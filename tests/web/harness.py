"""What browser tests share besides fixtures: the browser, the window sizes, the people who
log in, the admin's login form, and the artifacts a failure leaves (see conftest.py)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Page, ViewportSize, expect

from smmpanel.accounts.models import Customer

#: Debian's Chromium (its /usr/bin wrapper), unless SMMPANEL_CHROMIUM names another binary.
CHROMIUM = os.environ.get("SMMPANEL_CHROMIUM", "/usr/bin/chromium")
#: What scripts/ensure-chromium says too; a skipped test shows it with `pytest -rs`.
NO_CHROMIUM = f"No Chromium at {CHROMIUM} (apt-get install chromium): browser tests skipped"
CHROMIUM_ARGS = [
    # No GPU in a container or CI; no calls home from a test run.
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The window every page is tested (and photographed) at; PHONE for the narrow layout:
#: `@pytest.mark.browser_context_args(viewport=PHONE)` on a test.
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
#: Milliseconds any one action, navigation or `expect` may take. Generous: two CPUs run the
#: suite in parallel, and a test that waits this long has failed anyway.
TIMEOUT_MS = 10_000
#: Where a failed browser test leaves its screenshot and HTML.
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


@dataclass(frozen=True)
class Person:
    """Someone who can log in: their user row, and the password to type into a form."""

    user: Any
    username: str
    password: str


@dataclass(frozen=True)
class CustomerPerson(Person):
    customer: Customer
    api_key: str


#: Long and random-looking enough for Django's password validators; the same for everyone.
PASSWORD = "correct-horse-battery-staple-42"


def keep_artifacts(item: pytest.Item, page: Page) -> str:
    """The page's screenshot and HTML under var/test-artifacts/, named after the test and
    the database (`make test` runs the suite on both); what to print about them."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", item.nodeid.removeprefix("tests/")).strip("-")
    stem = ARTIFACTS / f"{name}--{connection.vendor}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"url: {page.url}"]
    try:
        page.screenshot(path=f"{stem}.png", full_page=True, timeout=TIMEOUT_MS)
        lines.append(f"screenshot: {stem}.png")
        Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
        lines.append(f"html: {stem}.html")
    except Exception as exc:  # a crashed page or browser: say so, keep the test's own error
        lines.append(f"could not save the page: {exc}")
    return "\n".join(lines)


def admin_log_in(page: Page, person: Person) -> None:
    """Through the admin's login form, as an operator would; lands on /admin/."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def customer_log_in(page: Page, person: Person, *, password: str | None = None) -> None:
    """Through the customer pages' login form (allauth's), as a customer would: types the
    name and the password and signs in. Waits for nothing after: the next page may be the
    panel's, or allauth's second step (the two-factor code)."""
    page.goto("/accounts/login/")
    page.get_by_label("Login").fill(person.username)
    page.get_by_label("Password", exact=True).fill(password or person.password)
    page.get_by_role("button", name="Sign In").click()


def log_out(page: Page) -> None:
    """From the header's user menu, in any language: open the dropdown, press its last item
    (a POST form to allauth's logout), and wait for the header's login link."""
    page.locator("nav .dropdown-toggle").click()
    page.locator("nav .dropdown-menu form[action='/accounts/logout/'] button").click()
    expect(page.locator("nav a[href='/accounts/login/']")).to_be_visible()
