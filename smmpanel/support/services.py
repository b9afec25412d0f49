"""Every write to a ticket: opening one, a message in its thread, closing it.

A message and the status it gives the ticket are written together, in one transaction with
the ticket row locked, so two replies at once each leave the status their own message says.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from smmpanel.accounts.models import Customer
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.parsing import text_problem
from smmpanel.orders.selectors import orders_of
from smmpanel.support.models import (
    BODY_MAX,
    SUBJECT_MAX,
    Ticket,
    TicketMessage,
    TicketStatus,
    TicketTopic,
)


def _text(name: str, value: str, *, size: int) -> str:
    """A subject or a message: something to read, of at most `size` characters."""
    value = value.strip()
    if not value:
        raise PanelError(ErrorCode.MISSING_PARAMETER, field=name)
    if len(value) > size:
        raise PanelError(ErrorCode.TEXT_TOO_LONG, field=name, size=size)
    if problem := text_problem(value):
        raise PanelError(ErrorCode.TEXT_UNREADABLE, field=name, problem=problem)
    return value


def ticket_body_clean(body: str) -> str:
    """A message as it will be stored, or the refusal: for forms that check before posting."""
    return _text("body", body, size=BODY_MAX)


def ticket_open(
    *,
    customer: Customer,
    subject: str,
    topic: str,
    body: str,
    order_id: int | None = None,
) -> Ticket:
    """A new ticket with its first message, from `customer`. A ticket about an order names
    one of the customer's own orders; any other topic may name one too."""
    # One line: a subject is shown in a table cell.
    subject = _text("subject", " ".join(subject.split()), size=SUBJECT_MAX)
    if not topic:
        raise PanelError(ErrorCode.MISSING_PARAMETER, field="topic")
    if topic not in TicketTopic.values:
        raise PanelError(ErrorCode.INCORRECT_REQUEST, field="topic")
    body = ticket_body_clean(body)
    if order_id is None and topic == TicketTopic.ORDER:
        raise PanelError(ErrorCode.MISSING_PARAMETER, field="order")
    # Someone else's order is refused exactly like one that does not exist.
    if order_id is not None and not orders_of(customer, [order_id]):
        raise PanelError(ErrorCode.INCORRECT_ORDER, field="order")
    with transaction.atomic(durable=True):
        ticket = Ticket.objects.create(
            customer=customer, subject=subject, topic=topic, order_id=order_id
        )
        TicketMessage.objects.create(ticket=ticket, author_id=customer.user_id, body=body)
    return ticket


def _locked(ticket_id: int, customer: Customer | None) -> Ticket:
    rows = Ticket.objects.select_for_update().filter(pk=ticket_id)
    if customer is not None:
        rows = rows.filter(customer_id=customer.pk)
    ticket = rows.first()
    if ticket is None:
        raise PanelError(f"Ticket {ticket_id} not found")
    return ticket


def ticket_reply(
    *,
    ticket_id: int,
    author: AbstractBaseUser,
    body: str,
    customer: Customer | None = None,
) -> TicketMessage:
    """A message in a ticket's thread. From its customer (`customer` given: their own ticket
    only), it puts the ticket back in the operator's queue (`open`), a closed one included;
    from staff (`customer` None; `author` must be staff) it marks the ticket `answered`."""
    body = ticket_body_clean(body)
    if customer is None and not getattr(author, "is_staff", False):
        raise PanelError("Only staff reply as the panel")
    if customer is not None and author.pk != customer.user_id:
        raise PanelError("A customer replies as themselves")
    status = TicketStatus.OPEN if customer is not None else TicketStatus.ANSWERED
    with transaction.atomic(durable=True):
        ticket = _locked(ticket_id, customer)
        message = TicketMessage.objects.create(
            ticket=ticket, author_id=author.pk, is_staff=customer is None, body=body
        )
        Ticket.objects.filter(pk=ticket.pk).update(status=status, updated_at=timezone.now())
    return message


def ticket_close(*, ticket_id: int, customer: Customer | None = None) -> None:
    """Close a ticket: by its customer (their own only) or by staff (`customer` None).
    Closing a closed ticket changes nothing."""
    with transaction.atomic(durable=True):
        ticket = _locked(ticket_id, customer)
        if ticket.status != TicketStatus.CLOSED:
            Ticket.objects.filter(pk=ticket.pk).update(
                status=TicketStatus.CLOSED, updated_at=timezone.now()
            )
