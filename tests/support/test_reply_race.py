"""Replies from both sides at once: each locks the ticket, so the status left is the one
the last message written gives, whichever thread wins."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from smmpanel.support.models import TicketMessage, TicketStatus
from smmpanel.support.services import ticket_open, ticket_reply
from tests.concurrency.race import race
from tests.conftest import postgres_only
from tests.factories import make_customer

ROUNDS = 5


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_status_follows_the_last_message_under_concurrent_replies() -> None:
    customer, _ = make_customer()
    staff = get_user_model().objects.create_user("operator", password="x", is_staff=True)
    ticket = ticket_open(customer=customer, subject="Race", topic="other", body="Go")
    for n in range(ROUNDS):
        calls = [
            lambda n=n: ticket_reply(
                ticket_id=ticket.pk, author=customer.user, body=f"c{n}", customer=customer
            ),
            lambda n=n: ticket_reply(ticket_id=ticket.pk, author=staff, body=f"s{n}"),
        ] * 3
        results = race(calls)
        assert all(isinstance(r, TicketMessage) for r in results), results
        ticket.refresh_from_db()
        last = TicketMessage.objects.filter(ticket=ticket).latest("id")
        expected = TicketStatus.ANSWERED if last.is_staff else TicketStatus.OPEN
        assert ticket.status == expected
    assert TicketMessage.objects.filter(ticket=ticket).count() == 1 + ROUNDS * 6
