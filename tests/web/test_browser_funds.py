"""Adding funds in a browser, as `make run` shows it: through the demo gateway, whose Pay
button makes it POST its signed callback to the live server while the customer's request
waits (the live server takes both at once), and a bank transfer the operator approves in
the admin."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from smmpanel.billing.models import CallbackOutcome, Payment, PaymentCallback, PaymentStatus
from smmpanel.billing.services import payment_method_create
from tests.web.harness import PHONE, CustomerPerson, Person, admin_log_in

D = Decimal


@pytest.fixture
def demo(transactional_db: None) -> Any:
    """The demo seed's card: 1 to 1000, +5 % from 100, with a fee to see it added."""
    return payment_method_create(
        code="demo",
        name="Demo card (no real money)",
        gateway="demo",
        secrets={"signing_secret": "browser-test-secret"},
        min_amount=D("1"),
        max_amount=D("1000"),
        fee_fixed=D("0.50"),
        bonus_percent=D("5"),
        bonus_from=D("100"),
    )


@pytest.fixture
def bank(transactional_db: None) -> Any:
    return payment_method_create(
        code="bank",
        name="Bank transfer",
        gateway="manual",
        min_amount=D("10"),
        instructions="Send the amount to IBAN XX00 DEMO 0000 0000.",
    )


def test_a_customer_adds_funds_through_the_demo_gateway(
    page: Page, customer: CustomerPerson, log_in: Callable[[Any], None], demo: Any, bank: Any
) -> None:
    log_in(customer)
    page.goto("/")
    expect(page.locator("#balance")).to_have_text("100.00 USD")
    page.get_by_role("link", name="Add funds").click()
    expect(page.get_by_role("heading", name="Add funds")).to_be_visible()
    page.get_by_label("Demo card (no real money)").check()
    expect(page.locator("#method-demo")).to_contain_text("+5 % bonus from 100.00 USD")
    # The reference is a transfer's; a card payment does not ask for one.
    expect(page.get_by_label("Your transfer's reference")).to_be_hidden()
    amount = page.get_by_label("Amount (USD)")
    amount.fill("99")
    expect(page.locator("#quote-bonus")).to_have_text("+0.00 USD")
    amount.fill("120")  # typed on: the quote follows, no reload
    expect(page.locator("#quote-fee")).to_have_text("0.50 USD")
    expect(page.locator("#quote-total")).to_have_text("120.50 USD")
    expect(page.locator("#quote-bonus")).to_have_text("+6.00 USD")
    expect(page.locator("#quote-credited")).to_have_text("126.00 USD")
    amount.fill("5000")
    expect(page.locator("#quote-error")).to_have_text("The maximum amount is 1000.00.")
    amount.fill("120")
    expect(page.locator("#quote-credited")).to_have_text("126.00 USD")
    page.get_by_role("button", name="Continue").click()

    # The demo gateway's own page, served by the panel as a gateway would serve it.
    expect(page.get_by_role("heading", name="Pay 120.50 USD")).to_be_visible()
    payment = Payment.objects.get()
    assert page.url == payment.checkout_url
    page.get_by_role("button", name="Pay").click()

    # Back on the panel, on this payment's page: credited by the gateway's signed callback.
    page.wait_for_url(f"**/payments/{payment.uid}")
    expect(page.locator("#payment-state [data-status]")).to_have_text("Completed")
    expect(page.locator("#payment-says")).to_have_text("126.00 USD was added to your balance.")
    expect(page.locator("#balance")).to_have_text("226.00 USD")  # 100 + 120 + 6 bonus
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.COMPLETED
    callback = PaymentCallback.objects.get()
    assert (callback.verified, callback.outcome) == (True, CallbackOutcome.CREDITED)

    page.get_by_role("link", name="Payments", exact=True).click()
    row = page.locator(f'tr[data-payment="{payment.uid}"]')
    expect(row).to_contain_text("120.00 USD")
    expect(row).to_contain_text("+6.00")
    expect(row).to_contain_text("Completed")


def test_a_transfer_is_filed_and_the_operator_approves_it(
    page: Page,
    customer: CustomerPerson,
    staff: Person,
    log_in: Callable[[Any], None],
    new_context: Callable[..., BrowserContext],
    bank: Any,
    demo: Any,
) -> None:
    log_in(customer)
    page.goto("/funds")
    page.get_by_label("Bank transfer").check()
    expect(page.locator("#method-bank")).to_contain_text("IBAN XX00 DEMO 0000 0000")
    page.get_by_label("Amount (USD)").fill("50")
    expect(page.locator("#quote-credited")).to_have_text("50.00 USD")
    page.get_by_role("button", name="Continue").click()
    # Filed without its reference: refused beside the field, nothing filed.
    expect(page.locator("#id_reference_errors")).to_have_text(
        "Enter the reference of your transfer."
    )
    assert not Payment.objects.exists()
    page.get_by_label("Your transfer's reference").fill("TRX-2026-0042")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#payment-state [data-status]")).to_have_text("Waiting for the operator")
    expect(page.locator("#payment-reference")).to_have_text("TRX-2026-0042")
    expect(page.locator("#balance")).to_have_text("100.00 USD")
    payment = Payment.objects.get()

    # The operator, in a browser of their own, approves it in the admin.
    operator = new_context().new_page()
    admin_log_in(operator, staff)
    operator.goto("/admin/billing/payment/")
    operator.locator(f'input[name="_selected_action"][value="{payment.pk}"]').check()
    operator.locator('select[name="action"]').select_option("approve")
    operator.get_by_role("button", name="Go").click()
    expect(operator.locator(".messagelist")).to_be_visible()

    page.reload()
    expect(page.locator("#payment-state [data-status]")).to_have_text("Completed")
    expect(page.locator("#balance")).to_have_text("150.00 USD")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.COMPLETED


@pytest.mark.browser_context_args(viewport=PHONE)
def test_add_funds_on_a_phone(
    page: Page, customer: CustomerPerson, log_in: Callable[[Any], None], demo: Any, bank: Any
) -> None:
    log_in(customer)
    page.goto("/funds")
    page.get_by_label("Demo card (no real money)").check()
    page.get_by_label("Amount (USD)").fill("100")
    expect(page.locator("#quote-credited")).to_have_text("105.00 USD")
    # Nothing wider than the phone: the quote and the button fit under the form.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    expect(page.get_by_role("button", name="Continue")).to_be_visible()
