"""Reading tickets as their customer sees them: a constant number of queries per page."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from smmpanel.accounts.models import Customer
from smmpanel.support.models import Ticket, TicketMessage


def tickets_of(customer: Customer) -> QuerySet[Ticket]:
    """The customer's tickets, latest activity first, each annotated with `last_by_staff`
    (whether the panel wrote the last message). One query."""
    last = TicketMessage.objects.filter(ticket_id=OuterRef("pk")).order_by("-created_at", "-id")
    return Ticket.objects.filter(customer_id=customer.pk).annotate(
        last_by_staff=Subquery(last.values("is_staff")[:1])
    )


def ticket_of(customer: Customer, ticket_id: int) -> Ticket | None:
    """The customer's ticket `ticket_id`; another customer's is None, like a missing one."""
    return Ticket.objects.filter(pk=ticket_id, customer_id=customer.pk).first()


def ticket_messages(ticket: Ticket) -> QuerySet[TicketMessage]:
    """The thread, oldest first. One query; the author is told by `is_staff`."""
    return TicketMessage.objects.filter(ticket_id=ticket.pk).order_by("created_at", "id")
