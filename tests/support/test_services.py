"""Tickets are opened, answered and closed only by support.services, with its rules."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.support.models import BODY_MAX, SUBJECT_MAX, Ticket, TicketMessage, TicketStatus
from smmpanel.support.services import ticket_close, ticket_open, ticket_reply
from tests.factories import make_customer
from tests.support.helpers import place_order

pytestmark = pytest.mark.django_db


def _refusal(**kwargs) -> PanelError:
    with pytest.raises(PanelError) as caught:
        ticket_open(**kwargs)
    assert not Ticket.objects.exists() and not TicketMessage.objects.exists()
    return caught.value


def _staff():
    return get_user_model().objects.create_user("operator", password="x", is_staff=True)


def test_a_ticket_about_an_own_order_starts_open_with_its_first_message() -> None:
    customer, _ = make_customer()
    order = place_order(customer)
    ticket = ticket_open(
        customer=customer,
        subject="  Where   is my\norder? ",
        topic="order",
        body=" Still pending \n",
        order_id=order.pk,
    )
    assert ticket.status == TicketStatus.OPEN
    assert ticket.order_id == order.pk
    assert ticket.subject == "Where is my order?"
    (message,) = TicketMessage.objects.filter(ticket=ticket)
    assert (message.body, message.is_staff, message.author_id) == (
        "Still pending",
        False,
        customer.user_id,
    )


def test_someone_elses_order_is_refused_naming_the_order_field() -> None:
    customer, _ = make_customer()
    other, _ = make_customer()
    theirs = place_order(other)
    error = _refusal(
        customer=customer, subject="Hi", topic="order", body="About it", order_id=theirs.pk
    )
    assert (error.code, error.field) == (ErrorCode.INCORRECT_ORDER, "order")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"topic": "order"}, ErrorCode.MISSING_PARAMETER, "order"),
        ({"body": "  \n "}, ErrorCode.MISSING_PARAMETER, "body"),
        ({"subject": ""}, ErrorCode.MISSING_PARAMETER, "subject"),
        ({"subject": "x" * (SUBJECT_MAX + 1)}, ErrorCode.TEXT_TOO_LONG, "subject"),
        ({"body": "x" * (BODY_MAX + 1)}, ErrorCode.TEXT_TOO_LONG, "body"),
        ({"body": "bad \x00 byte"}, ErrorCode.TEXT_UNREADABLE, "body"),
        ({"topic": "refund-me"}, ErrorCode.INCORRECT_REQUEST, "topic"),
        ({"topic": ""}, ErrorCode.MISSING_PARAMETER, "topic"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_written(
    changes, code, field
) -> None:
    customer, _ = make_customer()
    asked = {"customer": customer, "subject": "Help", "topic": "payment", "body": "Hello"}
    error = _refusal(**{**asked, **changes})
    assert (error.code, error.field) == (code, field)


def test_the_longest_accepted_message_is_kept_whole() -> None:
    customer, _ = make_customer()
    ticket = ticket_open(
        customer=customer, subject="s" * SUBJECT_MAX, topic="other", body="b" * BODY_MAX
    )
    assert len(ticket.messages.get().body) == BODY_MAX


def test_replies_move_the_status_between_customer_and_staff() -> None:
    customer, _ = make_customer()
    ticket = ticket_open(customer=customer, subject="Pay", topic="payment", body="I paid")
    staff = _staff()
    answer = ticket_reply(ticket_id=ticket.pk, author=staff, body="Found it")
    assert answer.is_staff
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED
    ticket_reply(ticket_id=ticket.pk, author=customer.user, body="Thanks", customer=customer)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    ticket_close(ticket_id=ticket.pk, customer=customer)
    ticket_close(ticket_id=ticket.pk)  # closing twice changes nothing
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    # Writing again opens it: a closed ticket is not a wall.
    ticket_reply(ticket_id=ticket.pk, author=customer.user, body="One more", customer=customer)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert [m.body for m in ticket.messages.all()] == ["I paid", "Found it", "Thanks", "One more"]


def test_only_the_owner_replies_as_customer_and_only_staff_as_the_panel() -> None:
    customer, _ = make_customer()
    other, _ = make_customer()
    ticket = ticket_open(customer=customer, subject="Mine", topic="other", body="Hello")
    with pytest.raises(PanelError):
        ticket_reply(ticket_id=ticket.pk, author=other.user, body="Hijack", customer=other)
    with pytest.raises(PanelError):
        ticket_reply(ticket_id=ticket.pk, author=other.user, body="As staff?")
    with pytest.raises(PanelError):
        ticket_close(ticket_id=ticket.pk, customer=other)
    with pytest.raises(PanelError):
        ticket_reply(ticket_id=ticket.pk, author=customer.user, body=" ", customer=customer)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.messages.count() == 1
