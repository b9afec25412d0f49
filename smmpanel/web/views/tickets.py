"""Tickets: a customer's list, opening one (about an order of theirs, a payment or else),
and the thread with a reply form. Every rule is support.services'; this only reads forms."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from smmpanel.accounts.models import Customer
from smmpanel.core.errors import PanelError
from smmpanel.core.parsing import MAX_WHOLE, parse_id
from smmpanel.support import selectors
from smmpanel.support.models import BODY_MAX, SUBJECT_MAX, TicketTopic
from smmpanel.support.services import ticket_close, ticket_open, ticket_reply
from smmpanel.web.errors import error_message
from smmpanel.web.middleware import request_customer

PER_PAGE = 20

TOPICS = [
    (TicketTopic.ORDER.value, _("An order")),
    (TicketTopic.PAYMENT.value, _("A payment")),
    (TicketTopic.OTHER.value, _("Something else")),
]


def _customer(request: HttpRequest) -> Customer:
    customer = request_customer(request)
    if customer is None:  # staff without a customer: these pages are a customer's
        raise Http404
    return customer


def _refuse(form: forms.Form, error: PanelError) -> None:
    """The refusal beside the field it names, else above the form."""
    form.add_error(error.field if error.field in form.fields else None, error_message(error))


# The forms only read what was typed; whether it is acceptable (empty, too long, whose
# order) is support.services' to say. `required`/`maxlength` are for the browser only.
class TicketForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": SUBJECT_MAX, "required": True}),
    )
    topic = forms.ChoiceField(label=_("About"), choices=TOPICS, initial=TicketTopic.ORDER)
    order = forms.IntegerField(
        label=_("Order ID"),
        required=False,
        min_value=1,
        max_value=MAX_WHOLE,
        help_text=_("For a ticket about an order: its ID, from your orders list."),
    )
    body = forms.CharField(
        label=_("Message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": BODY_MAX, "required": True}),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": BODY_MAX, "required": True}),
    )


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    page = Paginator(selectors.tickets_of(customer), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "web/tickets.html", {"page": page})


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    if request.method == "POST":
        form = TicketForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = ticket_open(
                    customer=customer,
                    subject=data["subject"],
                    topic=data["topic"],
                    body=data["body"],
                    order_id=data["order"],
                )
            except PanelError as exc:
                _refuse(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Ticket #%(id)s is open: we will answer here.") % {"id": ticket.pk},
                )
                return redirect("web:ticket", ticket_id=ticket.pk)
    else:
        # "Ask about this order" links from the orders pages carry ?order=ID.
        order_id = parse_id(request.GET.get("order", ""))
        initial = {"order": order_id} if order_id else {}
        form = TicketForm(initial=initial)
    return render(request, "web/ticket_new.html", {"form": form})


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    customer = _customer(request)
    ticket = selectors.ticket_of(customer, ticket_id)
    if ticket is None:
        raise Http404
    if request.method == "POST":
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                ticket_reply(
                    ticket_id=ticket.pk,
                    author=request.user,  # type: ignore[arg-type]
                    body=form.cleaned_data["body"],
                    customer=customer,
                )
            except PanelError as exc:
                _refuse(form, exc)
            else:
                messages.success(request, gettext("Your reply is sent."))
                return redirect(reverse("web:ticket", args=[ticket.pk]) + "#reply")
    else:
        form = ReplyForm()
    thread = list(selectors.ticket_messages(ticket))
    return render(request, "web/ticket.html", {"ticket": ticket, "thread": thread, "form": form})


@login_required
@require_POST
def ticket_close_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    customer = _customer(request)
    if selectors.ticket_of(customer, ticket_id) is None:
        raise Http404
    ticket_close(ticket_id=ticket_id, customer=customer)
    messages.success(request, gettext("The ticket is closed. Write again to open it."))
    return redirect("web:ticket", ticket_id=ticket_id)
