"""Add funds and the payments pages through Django's client on the real database: the
methods and their terms, the live quote, a demo payment to its checkout and back, a manual
transfer filed with its reference, refusals beside their field that change nothing, someone
else's payment, CSRF, and what the pages cost in queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import Payment, PaymentMethod, PaymentStatus
from smmpanel.billing.services import payment_confirm, payment_quote
from tests.billing.payments import demo_callback, make_method, pay
from tests.factories import make_customer
from tests.web.pages import queries

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer(client):
    customer, _ = make_customer(username="alice")
    client.force_login(customer.user)
    return customer


def _method(gateway: str, name: str, **fields) -> PaymentMethod:
    method = make_method(gateway, **fields)
    method.name = name
    method.save()
    return method


@pytest.fixture
def demo():
    return _method(
        "demo",
        "Demo card",
        min_amount=D("1"),
        max_amount=D("1000"),
        fee_percent=D("2.5"),
        fee_fixed=D("0.30"),
        bonus_percent=D("5"),
        bonus_from=D("100"),
    )


@pytest.fixture
def bank():
    return _method(
        "manual",
        "Bank transfer",
        code="bank",
        min_amount=D("10"),
        instructions="Send it to IBAN XX00 DEMO\nReference: your username",
    )


def balance(customer) -> Decimal:
    return Customer.objects.get(pk=customer.pk).balance


def _field_error(html: str, field: str) -> str:
    """The error shown beside `field` (empty: none)."""
    found = re.search(rf'id="id_{field}_errors"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1).strip() if found else ""


def _post(client, method: PaymentMethod | None, amount: str = "10", reference: str = ""):
    data = {"method": str(method.pk) if method else "", "amount": amount, "reference": reference}
    return client.post("/funds", data)


# -- the page -----------------------------------------------------------------------------


def test_the_page_offers_each_enabled_method_with_its_terms(client, customer, demo, bank):
    _method("demo", "Switched off", code="off", enabled=False)
    html = client.get("/funds").content.decode()
    assert "Demo card" in html and "Bank transfer" in html and "Switched off" not in html
    card = re.search(r'id="method-demo".*?</label>', html, re.S).group(0)
    assert "1.00 to 1000.00 USD" in card
    assert "Fee 2.5 % + 0.30 USD" in card
    assert "+5 % bonus from 100.00 USD" in card
    bank_card = re.search(r'id="method-bank".*?</label>', html, re.S).group(0)
    assert "From 10.00 USD" in bank_card and "No fee" in bank_card
    assert "IBAN XX00 DEMO<br>Reference: your username" in bank_card
    assert "data-manual" in bank_card and "data-manual" not in card
    # Two methods: none is chosen for the customer.
    assert "checked" not in html
    assert 'hx-get="/funds/quote"' in html
    assert '<a class="nav-link active" aria-current="page" href="/funds">Add funds</a>' in html


def test_a_single_method_is_chosen_already(client, customer, demo):
    html = client.get("/funds").content.decode()
    assert f'value="{demo.pk}" checked' in html
    assert "Type an amount to see the fee and the bonus." in html


def test_no_method_open_says_so_and_where_to_ask(client, customer):
    html = client.get("/funds").content.decode()
    assert "No way to pay is open right now" in html and "/tickets/new" in html
    assert 'id="funds-form"' not in html


def test_a_link_can_choose_the_method_and_the_amount(client, customer, demo, bank):
    html = client.get(f"/funds?method={demo.pk}&amount=100").content.decode()
    assert f'value="{demo.pk}" checked' in html and 'value="100"' in html
    assert 'id="quote-credited">105.00 USD' in html


# -- the quote ----------------------------------------------------------------------------


def test_the_quote_is_payment_quotes_own(client, customer, demo):
    html = client.get(f"/funds/quote?method={demo.pk}&amount=100").content.decode()
    quote = payment_quote(method=demo, amount="100", currency="USD")
    assert (quote.fee, quote.bonus, quote.total) == (D("2.80"), D("5.00"), D("102.80"))
    assert 'id="quote-amount">100.00 USD' in html
    assert 'id="quote-fee">2.80 USD' in html
    assert 'id="quote-total">102.80 USD' in html
    assert 'id="quote-bonus">+5.00 USD' in html
    assert 'id="quote-credited">105.00 USD' in html
    below = client.get(f"/funds/quote?method={demo.pk}&amount=99.99").content.decode()
    assert 'id="quote-bonus">+0.00 USD' in below and 'id="quote-credited">99.99 USD' in below
    assert "<html" not in html  # a fragment, not a page


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.5", "The minimum amount is 1.00."),
        ("1000.01", "The maximum amount is 1000.00."),
        ("10.001", "Enter an amount with at most 2 decimals."),
        ("ten", "Enter an amount with at most 2 decimals."),
        ("-5", "Enter an amount with at most 2 decimals."),
    ],
)
def test_the_quote_refuses_what_payment_create_would(client, customer, demo, amount, words):
    html = client.get("/funds/quote", {"method": demo.pk, "amount": amount}).content.decode()
    assert re.search(r'id="quote-error">(.*?)</p>', html).group(1) == words


def test_the_quote_waits_for_a_method_and_an_amount(client, customer, demo):
    assert "Choose a payment method." in client.get("/funds/quote?amount=5").content.decode()
    disabled = make_method("demo", code="off", enabled=False)
    off = client.get(f"/funds/quote?method={disabled.pk}&amount=5").content.decode()
    assert "Choose a payment method." in off
    empty = client.get(f"/funds/quote?method={demo.pk}&amount=").content.decode()
    assert "Type an amount" in empty


# -- paying through a gateway (the demo) --------------------------------------------------


def test_a_demo_payment_goes_to_its_checkout_and_comes_back_to_its_page(client, customer, demo):
    response = _post(client, demo, "100")
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver/payments/demo/{payment.uid}/"
    assert payment.checkout_url == response["Location"]
    assert (payment.amount, payment.fee, payment.bonus, payment.status) == (
        D("100"), D("2.80"), D("5.00"), PaymentStatus.PENDING,
    )  # fmt: skip
    assert balance(customer) == D("100")
    # The gateway is told to send the customer back to an address of this session's...
    match = re.fullmatch(r"http://testserver(/payments/return/[\w-]+)", payment.return_url)
    assert match, payment.return_url
    back = client.get(match.group(1))
    assert (back.status_code, back["Location"]) == (302, f"/payments/{payment.uid}")
    waiting = client.get(back["Location"]).content.decode()
    assert 'data-status="pending"' in waiting and "Waiting for payment" in waiting
    assert f'hx-get="/payments/{payment.uid}/state?shown=pending"' in waiting
    assert f'href="{payment.checkout_url}"' in waiting  # "Continue to payment"
    # ...and the gateway's signed callback credits the amount and the bonus.
    body, headers = demo_callback(payment)
    hook = client.post(
        f"/payments/callback/{demo.code}", body, content_type="application/json", **headers
    )
    assert hook.status_code == 200
    assert balance(customer) == D("205.00")
    done = client.get(f"/payments/{payment.uid}").content.decode()
    assert 'data-status="completed"' in done
    assert "105.00 USD was added to your balance." in done
    assert 'id="balance" href="/funds" title="Balance: add funds">205.00 USD' in done
    assert "hx-trigger" not in done.split('id="payment-state"')[1].split(">")[0]


def test_the_payment_page_reloads_itself_once_the_gateway_has_called(client, customer, demo):
    payment = pay(customer, demo, "20")
    state = client.get(f"/payments/{payment.uid}/state?shown=pending", HTTP_HX_REQUEST="true")
    assert state.status_code == 200 and "HX-Refresh" not in state
    assert 'hx-trigger="every 3s"' in state.content.decode()
    body, headers = demo_callback(payment)
    client.post(f"/payments/callback/{demo.code}", body, content_type="application/json", **headers)
    moved = client.get(f"/payments/{payment.uid}/state?shown=pending", HTTP_HX_REQUEST="true")
    assert moved["HX-Refresh"] == "true"


def test_a_gateway_that_cannot_start_is_said_above_the_form(client, customer):
    broken = make_method("demo", code="broken")
    broken.set_secrets({})  # no signing secret: the demo gateway refuses to start
    broken.save()
    response = _post(client, broken, "20")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The payment could not be started. Please try again later." in html
    assert Payment.objects.get().status == PaymentStatus.REJECTED  # the service keeps why
    assert balance(customer) == D("100")


def test_an_unknown_return_address_shows_the_history(client, customer, demo):
    response = client.get("/payments/return/not-a-token", follow=True)
    assert response.redirect_chain == [("/payments", 302)]
    assert "Your payments and their status are below." in response.content.decode()


# -- a manual transfer ----------------------------------------------------------------------


def test_a_transfer_is_filed_with_its_reference_and_waits_for_the_operator(client, customer, bank):
    response = _post(client, bank, "50", reference="  TRX-778  ")
    payment = Payment.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/payments/{payment.uid}")
    assert (payment.payer_reference, payment.status, payment.checkout_url) == (
        "TRX-778", PaymentStatus.PENDING, "",
    )  # fmt: skip
    html = client.get(response["Location"]).content.decode()
    assert "Waiting for the operator" in html and "the operator has found your transfer" in html
    assert 'id="payment-reference">TRX-778' in html
    assert "IBAN XX00 DEMO" in html  # where to send it, again
    assert "hx-trigger" not in html.split('id="payment-state"')[1].split(">")[0]
    assert balance(customer) == D("100")
    payment_confirm(payment_id=payment.pk, actor="operator")
    assert 'data-status="completed"' in client.get(response["Location"]).content.decode()
    assert balance(customer) == D("150")


def test_a_transfer_without_its_reference_is_refused_beside_it(client, customer, bank):
    response = _post(client, bank, "50", reference="   ")
    html = response.content.decode()
    assert _field_error(html, "reference") == "Enter the reference of your transfer."
    assert not Payment.objects.exists()
    assert 'value="50"' in html  # what was typed stays, to correct


# -- refusals change nothing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.99", "The minimum amount is 1.00."),
        ("1000.01", "The maximum amount is 1000.00."),
        ("12.345", "Enter an amount with at most 2 decimals."),
        ("12,50", "Enter an amount with at most 2 decimals."),
        ("", "Enter an amount with at most 2 decimals."),
        ("1e400", "Enter an amount with at most 2 decimals."),
    ],
)
def test_a_refused_amount_is_said_beside_it_and_nothing_changes(
    client, customer, demo, amount, words
):
    response = _post(client, demo, amount)
    html = response.content.decode()
    assert response.status_code == 200
    assert _field_error(html, "amount") == words
    assert 'aria-describedby="id_amount_errors"' in html
    assert not Payment.objects.exists() and balance(customer) == D("100")


def test_a_disabled_or_unknown_method_is_refused_beside_the_methods(client, customer, demo):
    off = make_method("demo", code="off", enabled=False)
    for method_id in (str(off.pk), "999999"):
        html = client.post("/funds", {"method": method_id, "amount": "10"}).content.decode()
        assert _field_error(html, "method") == "This payment method is not available.", method_id
    for nothing in ("", "abc", "-1"):
        html = client.post("/funds", {"method": nothing, "amount": "10"}).content.decode()
        assert _field_error(html, "method") == "Choose a payment method.", nothing
    assert not Payment.objects.exists() and balance(customer) == D("100")


def test_a_post_without_its_csrf_token_is_refused(customer, demo):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer.user)
    response = browser.post("/funds", {"method": demo.pk, "amount": "10"})
    assert response.status_code == 403
    assert not Payment.objects.exists()


# -- whose pages -----------------------------------------------------------------------------


def test_another_customers_payment_is_not_found(client, customer, demo):
    other, _ = make_customer(username="mallory")
    theirs = pay(other, demo, "10")
    assert client.get(f"/payments/{theirs.uid}").status_code == 404
    assert client.get(f"/payments/{theirs.uid}/state?shown=pending").status_code == 404
    assert str(theirs.uid) not in client.get("/payments").content.decode()


def test_the_pages_need_a_login_and_a_customer(demo):
    anonymous = Client()
    for url in ("/funds", "/payments", "/funds/quote"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    staff = get_user_model().objects.create_user("operator", is_staff=True)
    anonymous.force_login(staff)
    assert anonymous.get("/funds").status_code == 404
    assert anonymous.post("/funds", {"method": demo.pk, "amount": "10"}).status_code == 404
    assert not Payment.objects.exists()


# -- the history -----------------------------------------------------------------------------


def test_the_history_lists_each_payment_in_the_customers_time_zone(client, customer, demo, bank):
    Customer.objects.filter(pk=customer.pk).update(time_zone="Asia/Tokyo")
    paid = pay(customer, demo, "100")
    filed = pay(customer, bank, "20", payer_reference="TRX-9")
    at = dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.UTC)
    Payment.objects.filter(pk=paid.pk).update(created_at=at)
    html = client.get("/payments").content.decode()
    rows = re.findall(r"<tr data-payment=.*?</tr>", html, re.S)
    assert [str(filed.uid) in rows[0], str(paid.uid) in rows[1]] == [True, True]  # newest first
    assert "03/02/2026 7:30 a.m." in rows[1]  # 22:30 UTC is the next morning in Tokyo
    assert "100.00 USD" in rows[1] and "2.80" in rows[1] and "+5.00" in rows[1]
    assert "Waiting for payment" in rows[1]
    assert "Waiting for the operator" in rows[0] and "TRX-9" in rows[0]
    assert f'href="/payments/{paid.uid}"' in rows[1]


def test_the_history_is_empty_at_first_and_pages_by_twenty(client, customer, demo):
    html = client.get("/payments").content.decode()
    assert "No payments yet." in html and 'id="payments"' not in html
    for _ in range(21):
        pay(customer, demo, "10")
    first = client.get("/payments").content.decode()
    assert first.count("<tr data-payment=") == 20 and "Page 1 of 2" in first
    second = client.get("/payments?page=2").content.decode()
    assert second.count("<tr data-payment=") == 1


def test_the_pages_cost_the_same_queries_whatever_the_rows(client, customer, demo, bank):
    pay(customer, demo, "10")
    few = queries(client, "/payments")
    for i in range(15):
        pay(customer, bank if i % 2 else demo, "10")
    assert queries(client, "/payments") == few
    page = queries(client, "/funds")
    for i in range(5):
        make_method("demo", code=f"more{i}")
    assert queries(client, "/funds") == page
    assert page <= 5 and few <= 6
