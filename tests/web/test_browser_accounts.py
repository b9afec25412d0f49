"""Accounts in a real browser, as a person uses them: sign up, confirm the e-mail, turn on
two-factor and log in with a code or a recovery code, log out from the user menu, reset a
forgotten password, and choose a language that stays the customer's.

E-mail: the live server runs in this process, under the test settings' locmem backend, so
what the pages send lands in `mailoutbox`; a test follows its link as the reader would.
Wrong attempts are kept few: django-axes locks a name and address out after 5 wrong
passwords, and allauth limits failed logins per account.
"""

from __future__ import annotations

import re
import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from playwright.sync_api import Page, expect
from time_machine import TimeMachineFixture

from smmpanel.accounts.models import Customer
from tests.web.harness import (
    PASSWORD,
    CustomerPerson,
    Person,
    customer_log_in,
    log_out,
)

#: The one link in an e-mail the pages send (confirmation, password reset).
LINK = re.compile(r"https?://\S+")


def _link(message: EmailMessage) -> str:
    links = LINK.findall(message.body)
    assert len(links) == 1, message.body
    return str(links[0])


def _sign_up(page: Page, username: str, *, again: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(again)
    page.get_by_role("button", name="Sign Up").click()


def _totp_code(time_machine: TimeMachineFixture, secret: str) -> str:
    """The authenticator app's code now. The clock first moves on to the start of the next
    period (at most one period ahead, and ticking): allauth accepts the current period's code
    only, and a code computed just before the period turns would be stale when it arrives."""
    period = mfa_settings.TOTP_PERIOD
    time_machine.move_to((int(time.time()) // period + 1) * period + 0.1, tick=True)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def test_signing_up_lands_logged_in_with_a_zero_balance(page: Page) -> None:
    _sign_up(page, "zoe")
    # A customer lands on New order, and the front page sends them there too.
    expect(page).to_have_url("/order/new")
    expect(page.locator("#balance")).to_have_text("0.00 USD")
    expect(page.locator("nav .dropdown-toggle")).to_have_text("zoe")
    page.goto("/")
    expect(page).to_have_url("/order/new")
    customer = Customer.objects.get(user__username="zoe")
    assert customer.balance == 0
    assert customer.user.email == "zoe@example.com"


def test_a_refused_sign_up_names_the_field_and_makes_no_account(page: Page) -> None:
    _sign_up(page, "yann", again="a-different-password-7")
    expect(page).to_have_url("/accounts/signup/")
    field = page.locator("#field-password2")
    expect(field.locator(".invalid-feedback")).to_contain_text("same password")
    expect(field.get_by_label("Password (again)")).to_have_class(re.compile(r"\bis-invalid\b"))
    # What was typed stays, but the passwords are asked for again.
    expect(page.get_by_label("Username")).to_have_value("yann")
    expect(page.locator("#balance")).to_have_count(0)
    assert not get_user_model().objects.filter(username="yann").exists()
    assert not Customer.objects.exists()


def test_two_factor_turned_on_then_asked_for_at_login(
    page: Page, mailoutbox: list[EmailMessage], time_machine: TimeMachineFixture
) -> None:
    person = Person(user=None, username="tess", password=PASSWORD)
    _sign_up(page, person.username)
    expect(page.locator("#balance")).to_have_text("0.00 USD")

    # allauth.mfa wants a verified address first: the sign-up's confirmation e-mail.
    (confirmation,) = mailoutbox
    assert confirmation.to == ["tess@example.com"]
    page.goto(_link(confirmation))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".alert")).to_contain_text("confirmed")

    # Account → Two-factor → Activate: the secret on the page is what the app would scan.
    page.get_by_role("button", name="tess").click()
    page.get_by_role("link", name="Account", exact=True).click()
    page.locator("#mfa-link").click()
    page.get_by_role("link", name="Activate").click()
    # allauth asks for the password again before a security change (just signed up or not).
    expect(page.get_by_role("heading", name="Confirm Access")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    secret = page.get_by_label("Authenticator secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.get_by_label("Authenticator code").fill(_totp_code(time_machine, secret))
    page.get_by_role("button", name="Activate").click()

    # Recovery codes are offered at once.
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    codes = page.get_by_label("Unused codes").input_value().split()
    assert len(codes) == 10 and len(set(codes)) == 10
    page.goto("/account")
    expect(page.locator("#mfa-link")).to_have_text("Manage")

    # The password alone no longer logs in: the code is asked for, a wrong one refused.
    log_out(page)
    customer_log_in(page, person)
    expect(page).to_have_url("/accounts/2fa/authenticate/")
    code = page.get_by_label("Code")
    right = _totp_code(time_machine, secret)
    code.fill("000000" if right != "000000" else "111111")
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator("#field-code .invalid-feedback")).to_contain_text("Incorrect code")
    expect(page.locator("#balance")).to_have_count(0)
    code.fill(_totp_code(time_machine, secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url("/order/new")
    expect(page.locator("#balance")).to_have_text("0.00 USD")

    # A recovery code stands in for the app, once.
    log_out(page)
    customer_log_in(page, person)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator("#balance")).to_have_text("0.00 USD")
    log_out(page)
    customer_log_in(page, person)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator("#field-code .invalid-feedback")).to_contain_text("Incorrect code")
    expect(page.locator("#balance")).to_have_count(0)


def test_logging_out_from_the_user_menu(page: Page, customer: CustomerPerson) -> None:
    customer_log_in(page, customer)
    expect(page.locator("#balance")).to_have_text("100.00 USD")
    page.get_by_role("button", name=customer.username).click()
    menu = page.locator(".dropdown-menu")
    expect(menu).to_be_visible()
    menu.get_by_role("button", name="Log out").click()
    expect(page.locator("nav").get_by_role("link", name="Log in")).to_be_visible()
    expect(page.locator("#balance")).to_have_count(0)
    # Logged out for real: a customer's page asks for the login again.
    page.goto("/account")
    expect(page).to_have_url("/accounts/login/?next=/account")


def test_a_forgotten_password_is_reset_through_the_e_mailed_link(
    page: Page, customer: CustomerPerson, mailoutbox: list[EmailMessage]
) -> None:
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_role("button", name="Reset My Password").click()
    expect(page.get_by_role("heading", name="Password Reset")).to_be_visible()
    expect(page.locator("main")).to_contain_text("sent you an email")

    (message,) = mailoutbox
    assert message.to == ["alice@example.com"]
    page.goto(_link(message))
    new_password = "a-brand-new-password-99"
    page.get_by_label("New Password", exact=True).fill(new_password)
    page.get_by_label("New Password (again)").fill(new_password)
    page.get_by_role("button", name="Change Password").click()
    expect(page.locator("#balance")).to_have_text("100.00 USD")  # logged in by the reset

    # The new password logs in; the old one no longer does.
    log_out(page)
    customer_log_in(page, customer)
    expect(page.locator("#field-password .invalid-feedback, .alert-danger").first).to_be_visible()
    expect(page.locator("#balance")).to_have_count(0)
    customer_log_in(page, customer, password=new_password)
    expect(page.locator("#balance")).to_have_text("100.00 USD")


def _lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def test_the_footers_language_is_saved_and_follows_the_customer(
    page: Page, customer: CustomerPerson
) -> None:
    customer_log_in(page, customer)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/tickets")
    page.locator("footer").get_by_label("Language").select_option("Türkçe")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page).to_have_url("/tickets")  # back on the page it was chosen on
    customer.customer.refresh_from_db()
    assert customer.customer.language == "tr"

    # Another browser (no language cookie), logging in again: still Turkish.
    log_out(page)
    page.context.clear_cookies()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    customer_log_in(page, customer)
    expect(page.locator("#balance")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "tr")


def test_the_account_pages_language_is_saved_and_follows_the_customer(
    page: Page, customer: CustomerPerson
) -> None:
    customer_log_in(page, customer)
    page.goto("/account")
    page.locator("#preferences").get_by_label("Language").select_option("Türkçe")
    page.locator("#preferences").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#preferences select[name=language]")).to_have_value("tr")

    # Saved with the customer, not the browser: logged out it is the browser's English again,
    # logged in it is Turkish.
    log_out(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    customer_log_in(page, customer)
    expect(page.locator("#balance")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "tr")
