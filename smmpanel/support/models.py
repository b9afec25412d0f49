"""Tickets: a customer's question about an order, a payment or anything else, and its thread.

A ticket's `status` says whose turn it is: `open` waits on the operator, `answered` on the
customer, `closed` on nobody (a new message from either side opens it again). It changes
only in support/services.py, together with the message that changes it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

#: The longest subject and message accepted, in characters.
SUBJECT_MAX = 200
BODY_MAX = 5000


class TicketTopic(models.TextChoices):
    ORDER = "order", _("Order")
    PAYMENT = "payment", _("Payment")
    OTHER = "other", _("Other")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")  #: the customer wrote last: the operator's turn
    ANSWERED = "answered", _("Answered")  #: the operator wrote last: the customer's turn
    CLOSED = "closed", _("Closed")


class Ticket(models.Model):
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="tickets"
    )
    subject = models.CharField(max_length=SUBJECT_MAX)
    topic = models.CharField(max_length=10, choices=TicketTopic.choices)
    #: The customer's own order the ticket is about (always theirs: ticket_open checks it).
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    status = models.CharField(
        max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    #: When the last message was written (the list's "last reply"); moved by every message.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # A customer's list, newest activity first.
            models.Index(fields=["customer", "-updated_at"]),
            # The operator's queue: open tickets, oldest waiting first.
            models.Index(fields=["status", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketMessage(models.Model):
    """One message of a ticket's thread; written once, never edited."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ticket_messages"
    )
    #: Written by the panel's staff (shown as "Support"), not by the customer.
    is_staff = models.BooleanField(default=False)
    body = models.TextField(max_length=BODY_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"message #{self.pk} on ticket #{self.ticket_id}"
