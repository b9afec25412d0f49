"""Browser tests: pytest-playwright driving Debian's Chromium against the live server.

A test that takes `page` gets a fresh browser context on the live server (`page.goto("/")`
is relative to it) with a 1280x800 window, English, UTC, and a 10 s timeout on every action,
navigation and `expect`. It is marked `browser` by itself: `-m "not browser"` leaves the
browser tests out, and where Chromium is missing they are skipped (failed under CI=true).
When one fails, what the browser showed is kept under var/test-artifacts/ (a screenshot and
the page's HTML), and the report says where.

The browser is /usr/bin/chromium (Debian's package; `make test` installs it where it can),
or the binary SMMPANEL_CHROMIUM names; Playwright never downloads one. pytest-playwright's
own options work as usual: `--headed`, `--slowmo 500`, `--tracing retain-on-failure`.

Why Playwright, the browser and DJANGO_ALLOW_ASYNC_UNSAFE live per package, not per session:
Playwright's sync API keeps an asyncio loop marked as running in the test's thread for as
long as it is started, and Django refuses the ORM in a thread with a running loop. The tests
here use the ORM beside the browser (their rows, the database flush after each test), so
Django is told to allow it exactly while Playwright runs, and Playwright stops when a worker
leaves tests/web, so that the rest of the suite keeps Django's guard.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client
from playwright.sync_api import (
    Browser,
    BrowserContext,
    BrowserType,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from smmpanel.accounts.services import customer_create
from tests.web.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    NO_CHROMIUM,
    PASSWORD,
    TIMEOUT_MS,
    CustomerPerson,
    Person,
    keep_artifacts,
)

#: Fixtures that mean a test drives a browser (pytest-playwright's).
_BROWSER_FIXTURES = {"page", "context", "new_context", "browser"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    have_chromium = os.access(CHROMIUM, os.X_OK)
    for item in items:
        uses_browser = _BROWSER_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses_browser and item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)
        # Under CI the launch fails instead, saying why: a skip there would hide the tests.
        if item.get_closest_marker("browser") and not have_chromium and not _in_ci():
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A browser test that failed (in its setup or its body) keeps what the page showed,
    taken here while the page is still open, before the fixtures are torn down."""
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.failed and report.when in ("setup", "call") and isinstance(page, Page):
        report.sections.append(("browser artifacts", keep_artifacts(item, page)))
    return report


# -- pytest-playwright's fixtures, bounded to this package and on Debian's Chromium ----------


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        pw = sync_playwright().start()
        try:
            yield pw
        finally:
            pw.stop()


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    if browser_name != "chromium":
        pytest.skip("the browser tests run on Debian's Chromium only")
    return playwright.chromium


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"No Chromium at {CHROMIUM}: CI must have it (`make test` installs it)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "timeout": 60_000,  # a cold start on a busy machine
    }


@pytest.fixture(scope="package")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    def launch(**kwargs: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def base_url(live_server: Any) -> str:
    """Where `page.goto("/")` goes: the live server (pytest-django's, session-wide)."""
    return str(live_server.url)


@pytest.fixture(scope="package")
def browser_context_args(base_url: str) -> dict[str, Any]:
    """Every context's options; a test adds its own with the `browser_context_args` mark."""
    return {
        "base_url": base_url,
        "viewport": DESKTOP,
        "locale": "en-US",
        "timezone_id": "UTC",
    }


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    context = new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return context


# -- people to log in -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """A hash that takes no time: the real one costs half a second a login on these CPUs, and
    what a browser test proves is the pages, not PBKDF2. The live server shares these settings."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(transactional_db: None) -> Person:
    """An operator: a superuser who can use /admin/."""
    user = get_user_model().objects.create_superuser("operator", "operator@example.com", PASSWORD)
    return Person(user=user, username="operator", password=PASSWORD)


@pytest.fixture
def customer(transactional_db: None) -> CustomerPerson:
    """A customer with a login, an API key and a balance of 100."""
    made, key = customer_create(
        username="alice", password=PASSWORD, email="alice@example.com", balance="100"
    )
    return CustomerPerson(
        user=made.user, username="alice", password=PASSWORD, customer=made, api_key=key
    )


@pytest.fixture
def log_in(page: Page, base_url: str) -> Callable[[Person | AbstractBaseUser], None]:
    """`log_in(staff)` or `log_in(customer)`: that person is logged in to `page`'s context,
    through a session made directly (the login page's own tests type into its form)."""

    def log_in(person: Person | AbstractBaseUser) -> None:
        user: Any = person.user if isinstance(person, Person) else person
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": base_url, "httpOnly": True}]
        )

    return log_in
