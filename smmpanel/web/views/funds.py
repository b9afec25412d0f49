"""Add funds and the payments history: the enabled methods with their terms, the quote as
the amount is typed, a payment started at its gateway, and each payment's page.

Every rule (the limits, the currency's decimals, fee and bonus, which method is open, that a
transfer needs its reference) is billing.services': the quote shown is `payment_quote`'s,
the one `payment_create` charges by. These views only read forms and show what it says.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from smmpanel.accounts.models import Customer
from smmpanel.billing.gateways import gateway_of
from smmpanel.billing.models import Payment, PaymentMethod, PaymentStatus
from smmpanel.billing.selectors import (
    payment_method_by_id,
    payment_methods_enabled,
    payment_of,
    payments_of,
)
from smmpanel.billing.services import PaymentQuote, payment_create, payment_quote
from smmpanel.billing.views import payment_urls
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.parsing import parse_id
from smmpanel.web.errors import error_message
from smmpanel.web.middleware import request_customer

PER_PAGE = 20
#: The session remembers which payment each return address stands for, the newest so many.
RETURNS_KEY = "funds_returns"
MAX_RETURNS = 20
#: The longest amount read: a person's number, not a document.
MAX_AMOUNT_TEXT = 40
REFERENCE_MAX = 200

C = ErrorCode
#: The field a payment refusal is about, for the codes whose error names none.
_FIELD_OF: dict[ErrorCode, str] = {
    C.PAYMENT_METHOD_UNAVAILABLE: "method",
    C.PAYMENT_AMOUNT_INVALID: "amount",
    C.PAYMENT_AMOUNT_LESS: "amount",
    C.PAYMENT_AMOUNT_MORE: "amount",
    C.PAYMENT_REFERENCE_MISSING: "reference",
}


def _customer(request: HttpRequest) -> Customer:
    customer = request_customer(request)
    if customer is None:  # staff without a customer: these pages are a customer's
        raise Http404
    return customer


def _percent(value: Decimal) -> str:
    """2.50 → "2.5", 5.00 → "5": a rate as people write it."""
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class MethodCard:
    """A method as the page offers it: its terms in words the template only places."""

    method: PaymentMethod
    manual: bool
    fee_percent: str
    bonus_percent: str


def _card(method: PaymentMethod) -> MethodCard:
    return MethodCard(
        method=method,
        manual=gateway_of(method.gateway).manual,
        fee_percent=_percent(method.fee_percent) if method.fee_percent else "",
        bonus_percent=_percent(method.bonus_percent) if method.bonus_percent else "",
    )


# The form only reads what was typed; whether it is acceptable is payment_create's to say.
class FundsForm(forms.Form):
    method = forms.CharField(required=False)  # the radios are drawn by the template
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "inputmode": "decimal",
                "autocomplete": "off",
                "maxlength": MAX_AMOUNT_TEXT,
                "placeholder": "0.00",
            }
        ),
    )
    reference = forms.CharField(
        label=_("Your transfer's reference"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": REFERENCE_MAX, "autocomplete": "off"}),
        help_text=_("As your bank or wallet shows it, so that we can find your transfer."),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = format_lazy("{} ({})", _("Amount"), currency)


def _refuse(form: forms.Form, error: PanelError) -> None:
    """The refusal beside the field it is about, else above the form."""
    field = _FIELD_OF.get(error.code, error.field) if error.code else error.field
    form.add_error(field if field in form.fields else None, error_message(error))


def _chosen(cards: list[MethodCard], value: object) -> MethodCard | None:
    method_id = parse_id(value)
    return next((c for c in cards if c.method.pk == method_id), None)


@dataclass(frozen=True)
class QuoteView:
    """What the quote box says: a price, a refusal, or what is still missing."""

    quote: PaymentQuote | None = None
    error: str = ""
    #: Nothing typed yet, or no method chosen: a hint instead of an error.
    waiting: str = ""

    @property
    def credited(self) -> Decimal | None:
        return self.quote.amount + self.quote.bonus if self.quote else None


def _quote(card: MethodCard | None, amount: str, currency: str) -> QuoteView:
    if card is None:
        return QuoteView(waiting=gettext("Choose a payment method."))
    if not amount:
        return QuoteView(waiting=gettext("Type an amount to see the fee and the bonus."))
    try:
        quote = payment_quote(method=card.method, amount=amount, currency=currency)
    except PanelError as exc:
        return QuoteView(error=error_message(exc))
    return QuoteView(quote=quote)


def _remember_return(request: HttpRequest, token: str, payment: Payment) -> None:
    returns = dict(request.session.get(RETURNS_KEY, {}))
    returns[token] = str(payment.uid)
    request.session[RETURNS_KEY] = dict(list(returns.items())[-MAX_RETURNS:])


def _start(request: HttpRequest, customer: Customer, data: dict[str, str]) -> Payment:
    """A payment through the chosen method. The gateway sends the customer back to an
    address made before the payment exists; the session says which payment it stands for."""
    method_id = parse_id(data["method"])
    method = payment_method_by_id(method_id) if method_id else None
    if method is None:
        raise PanelError(ErrorCode.PAYMENT_METHOD_UNAVAILABLE)
    token = secrets.token_urlsafe(12)
    urls = payment_urls(request, method, reverse("web:payment_return", args=[token]))
    payment = payment_create(
        customer=customer,
        method_id=method.pk,
        amount=data["amount"],
        urls=urls,
        payer_reference=data["reference"],
    )
    _remember_return(request, token, payment)
    return payment


@login_required
@require_http_methods(["GET", "POST"])
def funds(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    cards = [_card(m) for m in payment_methods_enabled()]
    if request.method == "POST":
        form = FundsForm(request.POST, currency=customer.currency)
        if form.is_valid():
            if not parse_id(form.cleaned_data["method"]):
                form.add_error("method", gettext("Choose a payment method."))
            else:
                try:
                    payment = _start(request, customer, form.cleaned_data)
                except PanelError as exc:
                    _refuse(form, exc)
                else:
                    if payment.checkout_url:
                        return redirect(payment.checkout_url)
                    return redirect("web:payment", uid=payment.uid)
    else:
        # One method: it is chosen already. "?method=ID" links choose another.
        wanted = request.GET.get("method") or (cards[0].method.pk if len(cards) == 1 else "")
        initial = {"method": wanted, "amount": request.GET.get("amount", "")}
        form = FundsForm(initial=initial, currency=customer.currency)
    card = _chosen(cards, form["method"].value())
    amount = str(form["amount"].value() or "").strip()
    return render(
        request,
        "web/funds.html",
        {
            "form": form,
            "cards": cards,
            "chosen": card,
            "quote": _quote(card, amount, customer.currency) if cards else None,
            "currency": customer.currency,
        },
    )


@login_required
@require_GET
def funds_quote(request: HttpRequest) -> HttpResponse:
    """The quote box alone, as the amount is typed (htmx): payment_quote's own numbers."""
    customer = _customer(request)
    card = _chosen([_card(m) for m in payment_methods_enabled()], request.GET.get("method"))
    amount = request.GET.get("amount", "").strip()
    quote = _quote(card, amount, customer.currency)
    return render(request, "web/funds_quote.html", {"quote": quote, "currency": customer.currency})


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    #: Its method waits for the operator (the badge says so), not for a gateway.
    manual: bool


@login_required
@require_GET
def payment_list(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    page = Paginator(payments_of(customer), PER_PAGE).get_page(request.GET.get("page"))
    rows = [PaymentRow(p, gateway_of(p.method.gateway).manual) for p in page.object_list]
    return render(request, "web/payments.html", {"page": page, "rows": rows})


@login_required
@require_GET
def payment_detail(request: HttpRequest, uid: str) -> HttpResponse:
    customer = _customer(request)
    payment = payment_of(customer, uid)
    if payment is None:
        raise Http404
    return render(request, "web/payment.html", _payment_context(payment))


@login_required
@require_GET
def payment_state(request: HttpRequest, uid: str) -> HttpResponse:
    """The status box of a payment waiting for its gateway, asked for every few seconds
    (htmx); once the status moved on, the whole page reloads, header balance included."""
    customer = _customer(request)
    payment = payment_of(customer, uid)
    if payment is None:
        raise Http404
    if payment.status != request.GET.get("shown", payment.status):
        return HttpResponseClientRefresh()
    return render(request, "web/payment_state.html", _payment_context(payment))


def _payment_context(payment: Payment) -> dict[str, object]:
    manual = gateway_of(payment.method.gateway).manual
    return {
        "payment": payment,
        "manual": manual,
        # A gateway's callback may come after the customer: the page asks until it does.
        "watch": payment.status == PaymentStatus.PENDING and not manual,
        "credited": payment.amount + payment.bonus,
    }


@login_required
@require_GET
def payment_return(request: HttpRequest, token: str) -> HttpResponse:
    """Where a gateway sends the customer back: the page of the payment this address was
    made for, or (another browser, an old address) the history, which lists it."""
    customer = _customer(request)
    uid = request.session.get(RETURNS_KEY, {}).get(token)
    payment = payment_of(customer, uid) if uid else None
    if payment is None:
        messages.info(request, gettext("Your payments and their status are below."))
        return redirect("web:payments")
    return redirect("web:payment", uid=payment.uid)
