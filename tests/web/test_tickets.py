"""Tickets on the pages: open one about an order of one's own, reply, close; another's
order or ticket is refused; the operator answers from the admin through ticket_reply."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from smmpanel.support.models import BODY_MAX, Ticket, TicketMessage, TicketStatus
from smmpanel.support.services import ticket_open, ticket_reply
from tests.factories import make_customer
from tests.support.helpers import place_order
from tests.web.pages import form_values, queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    customer, _ = make_customer(username="alice")
    client.force_login(customer.user)
    return customer


def _field_error(html: str, field: str) -> str:
    """The error shown beside `field` (empty: none)."""
    block = re.search(rf'id="field-{field}".*?</div>\s*</div>', html, re.S)
    assert block, f"no field {field} on the page"
    found = re.search(r'class="invalid-feedback[^"]*"[^>]*>(.*?)</div>', block.group(0), re.S)
    return found.group(1).strip() if found else ""


def _open(client, **data):
    values = {"subject": "Help", "topic": "order", "order": "", "body": "Hello"}
    return client.post("/tickets/new", {**values, **data})


def test_opening_a_ticket_about_an_own_order(client, customer) -> None:
    order = place_order(customer)
    page = client.get(f"/tickets/new?order={order.pk}")
    assert f'value="{order.pk}"' in page.content.decode()
    response = _open(client, subject="Stuck", order=str(order.pk), body="Pending for a day")
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}"
    assert (ticket.order_id, ticket.status, ticket.customer_id) == (
        order.pk,
        TicketStatus.OPEN,
        customer.pk,
    )
    thread = client.get(response["Location"]).content.decode()
    assert "Pending for a day" in thread and "Waiting for support" in thread
    assert f"order #{order.pk}" in thread


def test_someone_elses_order_is_refused_beside_the_order_field(client, customer) -> None:
    other, _ = make_customer(username="mallory")
    theirs = place_order(other)
    response = _open(client, order=str(theirs.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert _field_error(html, "order") == "Order not found."
    assert not Ticket.objects.exists()
    # What was typed is still there to correct.
    assert "Hello</textarea>" in html


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"order": ""}, "order", "This field is required."),
        ({"order": "abc"}, "order", "Enter a whole number."),
        ({"topic": "other", "body": "   "}, "body", "This field is required."),
        ({"topic": "other", "subject": ""}, "subject", "This field is required."),
        (
            {"topic": "other", "body": "x" * (BODY_MAX + 1)},
            "body",
            f"Longer than {BODY_MAX} characters.",
        ),
    ],
)
def test_bad_input_is_named_beside_its_field_and_nothing_is_opened(
    client, customer, data, field, words
) -> None:
    response = _open(client, **data)
    assert response.status_code == 200
    assert _field_error(response.content.decode(), field) == words
    assert not Ticket.objects.exists()


def test_a_payment_ticket_needs_no_order_and_the_customer_replies_and_closes(
    client, customer
) -> None:
    _open(client, topic="payment", subject="Deposit missing", body="I paid 10 USD")
    ticket = Ticket.objects.get()
    staff = get_user_model().objects.create_user("op", password="x", is_staff=True)
    ticket_reply(ticket_id=ticket.pk, author=staff, body="Credited, sorry")
    listing = client.get("/tickets").content.decode()
    assert "Deposit missing" in listing and "Answered" in listing and "by Support" in listing

    response = client.post(f"/tickets/{ticket.pk}", {"body": "Thank you"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    empty = client.post(f"/tickets/{ticket.pk}", {"body": "  "})
    assert _field_error(empty.content.decode(), "body") == "This field is required."
    assert ticket.messages.count() == 3

    client.post(f"/tickets/{ticket.pk}/close")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    thread = client.get(f"/tickets/{ticket.pk}").content.decode()
    assert "Credited, sorry" in thread and "Thank you" in thread
    assert "a reply opens it again" in thread


def test_another_customers_ticket_is_not_found(client, customer) -> None:
    other, _ = make_customer(username="bob")
    theirs = ticket_open(customer=other, subject="Bob's", topic="other", body="Private")
    assert client.get(f"/tickets/{theirs.pk}").status_code == 404
    assert client.post(f"/tickets/{theirs.pk}", {"body": "Hijack"}).status_code == 404
    assert client.post(f"/tickets/{theirs.pk}/close").status_code == 404
    assert "Bob&#x27;s" not in client.get("/tickets").content.decode()
    theirs.refresh_from_db()
    assert theirs.status == TicketStatus.OPEN and theirs.messages.count() == 1


def test_the_list_has_an_empty_state_and_asks_to_log_in(client, customer) -> None:
    assert "You have no tickets" in client.get("/tickets").content.decode()
    client.logout()
    response = client.get("/tickets")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_without_a_customer_get_not_found(client) -> None:
    staff = get_user_model().objects.create_user("op", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/tickets").status_code == 404
    assert client.get("/tickets/new").status_code == 404


def test_every_post_needs_the_csrf_token(customer) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer.user)
    ticket = ticket_open(customer=customer, subject="S", topic="other", body="B")
    new = {"subject": "x", "topic": "other", "body": "y"}
    assert browser.post("/tickets/new", new).status_code == 403
    assert browser.post(f"/tickets/{ticket.pk}", {"body": "z"}).status_code == 403
    assert browser.post(f"/tickets/{ticket.pk}/close").status_code == 403
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1
    # The same post with the page's token goes through.
    page = browser.get(f"/tickets/{ticket.pk}").content.decode()
    token = form_values(page)["csrfmiddlewaretoken"]
    reply = browser.post(f"/tickets/{ticket.pk}", {"body": "z", "csrfmiddlewaretoken": token})
    assert reply.status_code == 302 and TicketMessage.objects.count() == 2


def test_pages_cost_the_same_queries_for_one_ticket_or_many(client, customer) -> None:
    first = ticket_open(customer=customer, subject="T0", topic="other", body="B0")
    one_list, one_thread = queries(client, "/tickets"), queries(client, f"/tickets/{first.pk}")
    for n in range(1, 25):
        ticket_open(customer=customer, subject=f"T{n}", topic="other", body=f"B{n}")
        ticket_reply(ticket_id=first.pk, author=customer.user, body=f"R{n}", customer=customer)
    assert queries(client, "/tickets") == one_list
    assert queries(client, f"/tickets/{first.pk}") == one_thread
    assert queries(client, "/tickets?page=2") == one_list


def test_the_operator_answers_in_the_admin_through_ticket_reply(client) -> None:
    customer, _ = make_customer(username="carol")
    ticket = ticket_open(customer=customer, subject="Refill?", topic="other", body="When?")
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    url = f"/admin/support/ticket/{ticket.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and "When?" in page.content.decode()
    form = form_values(page.content.decode())
    new = int(form["messages-TOTAL_FORMS"]) - 1
    too_long = client.post(url, {**form, f"messages-{new}-body": "x" * (BODY_MAX + 1)})
    assert too_long.status_code == 200
    assert TicketMessage.objects.count() == 1

    response = client.post(url, {**form, f"messages-{new}-body": "Tomorrow", "_continue": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    reply = TicketMessage.objects.latest("id")
    assert (reply.body, reply.is_staff, reply.author_id) == ("Tomorrow", True, admin.pk)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED
    # The customer reads it on their page.
    client.force_login(customer.user)
    assert "Tomorrow" in client.get(f"/tickets/{ticket.pk}").content.decode()

    client.force_login(admin)
    changelist = "/admin/support/ticket/"
    client.post(changelist, {"action": "close", "_selected_action": [ticket.pk]})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
