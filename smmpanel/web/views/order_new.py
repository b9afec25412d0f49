"""New order: pick a service (category, then service, or a search across both), see its
terms at the customer's own price, fill in exactly what its type takes, watch the charge
as it is typed, and place it.

The form is built from the service type's kind (`orders/kinds.py`): its `required` and
`optional` parameters are the fields, in that order. The charge comes from `order_quote`,
which is what `order_place` prices with, and the order is placed by `order_place` itself:
the page holds no rule of its own about what an order takes or costs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails
from django_stubs_ext import StrOrPromise

from smmpanel.accounts.models import Customer
from smmpanel.catalog.models import Category, Service
from smmpanel.catalog.selectors import (
    effective_rate,
    service_for_customer,
    services_for_customer,
    services_matching,
)
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.parsing import parse_id
from smmpanel.orders.kinds import Charge, OrderKind, kind_for
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.selectors import Quote, average_completion, order_quote
from smmpanel.orders.services import order_place
from smmpanel.orders.validation import SUBSCRIPTION_DELAYS
from smmpanel.web.errors import error_message
from smmpanel.web.middleware import request_customer
from smmpanel.web.templatetags.panel import amount

#: The parameters that make an order a drip-feed; offered only where the service allows it.
DRIPFEED_PARAMETERS = ("runs", "interval")
#: The parameters an `OrderRequest` holds (all of `add`'s but `service`).
REQUEST_FIELDS = frozenset(f.name for f in dataclasses.fields(OrderRequest)) - {"malformed"}


def _text(
    label: StrOrPromise, *, placeholder: str = "", help_text: StrOrPromise = ""
) -> forms.Field:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": placeholder} if placeholder else {}),
    )


def _lines(label: StrOrPromise, help_text: StrOrPromise) -> forms.Field:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


def _number(label: StrOrPromise, help_text: StrOrPromise = "") -> forms.Field:
    return forms.IntegerField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
    )


def _delay() -> forms.Field:
    return forms.TypedChoiceField(
        label=_("Delay"),
        required=False,
        coerce=int,
        empty_value=None,
        initial=0,
        choices=[
            (d, ngettext("%(n)d minute after a post", "%(n)d minutes after a post", d) % {"n": d})
            if d
            else (0, _("No delay"))
            for d in SUBSCRIPTION_DELAYS
        ],
    )


def _expiry() -> forms.Field:
    return forms.DateField(
        label=_("Expiry"),
        required=False,
        help_text=_("The subscription ends after this day."),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


#: How each order parameter is asked for on the page. Which of them an order takes is the
#: kind's to say; this only words and shapes them.
PARAMETERS: dict[str, Callable[[], forms.Field]] = {
    "link": lambda: _text(_("Link"), placeholder="https://"),
    "quantity": lambda: _number(_("Quantity")),
    "runs": lambda: _number(_("Runs"), _("Deliver the quantity this many times; empty: at once.")),
    "interval": lambda: _number(_("Interval (minutes)"), _("Minutes between runs.")),
    "comments": lambda: _lines(_("Comments"), _("One comment per line.")),
    "usernames": lambda: _lines(_("Usernames"), _("One username per line.")),
    "hashtags": lambda: _lines(_("Hashtags"), _("One hashtag per line.")),
    "groups": lambda: _lines(_("Groups"), _("One group per line.")),
    "hashtag": lambda: _text(_("Hashtag"), placeholder="#"),
    "username": lambda: _text(_("Username"), placeholder="@"),
    "media": lambda: _text(_("Media link"), placeholder="https://"),
    "answer_number": lambda: _text(_("Answer number")),
    "min": lambda: _number(_("Minimum per post")),
    "max": lambda: _number(_("Maximum per post")),
    "delay": _delay,
    "posts": lambda: _number(_("New posts"), _("How many new posts; empty: every one.")),
    "old_posts": lambda: _number(_("Old posts"), _("How many existing posts too.")),
    "expiry": _expiry,
}

#: What stands in, while the charge is shown, for a parameter the customer has not typed
#: yet and the charge does not depend on (the kind checks every parameter before it
#: prices): the charge shows from the first number typed, whatever the order of fields.
_STAND_INS = {
    "link": "https://example.com/",
    "media": "https://example.com/",
    "username": "example",
    "hashtag": "example",
    "usernames": "example",
    "hashtags": "example",
    "groups": "example",
    "answer_number": "1",
}


def parameter_label(name: str) -> str:
    """An order parameter's name as the page words it."""
    return str(PARAMETERS[name]().label) if name in PARAMETERS else name


def order_parameters(kind: OrderKind, service: Service) -> list[str]:
    """The parameters a page asks for to order `service`: its kind's, in the kind's order;
    drip-feed's only where the service offers it."""
    names = [*kind.required, *kind.optional]
    if not (kind.dripfeed and service.dripfeed):
        names = [n for n in names if n not in DRIPFEED_PARAMETERS]
    return [n for n in names if n in PARAMETERS]


class OrderForm(forms.Form):
    """The fields of one service's order, as its kind asks; the kind checks them. (The
    service itself travels beside them, as the picker's `service`.)"""

    def __init__(self, *args: Any, service: Service, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind_for(service.type)
        names = order_parameters(self.kind, service)
        for name in names:
            field = self.fields[name] = PARAMETERS[name]()
            if name in self.kind.required:
                field.widget.attrs["required"] = True
        #: The optional parameters, shown apart; a drip-feed's are its runs and interval.
        self.optional = [n for n in names if n not in self.kind.required]
        self.optional_title = (
            _("Drip-feed (optional)")
            if set(self.optional) <= set(DRIPFEED_PARAMETERS)
            else _("Optional")
        )
        if "quantity" in self.fields:
            self.fields["quantity"].help_text = _("Min %(min)s · Max %(max)s") % {
                "min": number_format(service.min, force_grouping=True),
                "max": number_format(service.max, force_grouping=True),
            }

    def required_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n not in self.optional]

    def optional_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.optional]

    def order_request(self, *, stand_ins: bool = False) -> OrderRequest:
        """The typed request; with `stand_ins`, what the charge does not depend on is filled
        in where it is still empty (for showing the charge only, never for placing)."""
        values = {
            name: value
            for name, value in self.cleaned_data.items()
            if name in REQUEST_FIELDS and value not in (None, "")
        }
        if stand_ins:
            for name in self.kind.required:
                if name not in values and name in _STAND_INS and name != self.kind.counted:
                    values[name] = _STAND_INS[name]
        return OrderRequest(**values)

    def field_at_fault(self, error: PanelError) -> str | None:
        """The form field an error names: its own, or the list that stands for the quantity
        of an order counted by lines. None: the error is the whole form's."""
        if error.field in self.fields:
            return error.field
        if error.field == "quantity" and self.kind.counted in self.fields:
            return self.kind.counted
        return None

    def add_panel_error(self, error: PanelError) -> None:
        self.add_error(self.field_at_fault(error), error_message(error))


# -- reading the page's choices ------------------------------------------------------------


@dataclass(frozen=True)
class ServiceOption:
    service: Service
    rate: Decimal


@dataclass
class Picker:
    """The service picker: the search, the categories matching it, the services listed."""

    query: str
    categories: list[Category]
    category: Category | None
    groups: list[tuple[Category, list[ServiceOption]]]
    service: Service | None
    total: int


def _picker(request: HttpRequest, customer: Customer) -> Picker:
    params = request.POST if request.method == "POST" else request.GET
    query = params.get("q", "").strip()[:100]
    matching = list(services_matching(services_for_customer(customer), text=query))
    categories = list({s.category_id: s.category for s in matching}.values())
    service_id = parse_id(params.get("service", ""))
    service = next((s for s in matching if s.pk == service_id), None)
    if service is None and service_id is not None:
        service = service_for_customer(customer, service_id)
    category_id = parse_id(params.get("category", ""))
    if category_id is None and service is not None and "category" not in params:
        category_id = service.category_id
    category = next((c for c in categories if c.pk == category_id), None)
    if category is None and not query and "category" not in params and categories:
        category = categories[0]  # category first: the first one to start with
    groups: dict[int, tuple[Category, list[ServiceOption]]] = {}
    for s in matching:
        if category is None or s.category_id == category.pk:
            option = ServiceOption(s, effective_rate(customer, s))
            groups.setdefault(s.category_id, (s.category, []))[1].append(option)
    return Picker(query, categories, category, list(groups.values()), service, len(matching))


@dataclass(frozen=True)
class ChargeView:
    """What the live charge box says: the charge and what it counts, or what is wrong."""

    quote: Quote | None = None
    problem: str = ""
    balance_after: Decimal | None = None
    #: The words of the refusal `order_place` would give, when the balance is short.
    short_of_funds: str = ""
    per_post: bool = False
    package: bool = False


def _charge(customer: Customer, service: Service, form: OrderForm) -> ChargeView:
    """The charge of what the form holds so far, from the pricing `order_place` uses."""
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        label = (form.fields[name].label or "") if name in form.fields else ""
        return ChargeView(problem=f"{label}: {errors[0]}" if label else str(errors[0]))
    try:
        quote = order_quote(
            customer=customer, service=service, request=form.order_request(stand_ins=True)
        )
    except PanelError as error:
        if error.code is ErrorCode.MISSING_PARAMETER:
            return ChargeView()  # not typed yet: nothing wrong to say
        at_fault = form.field_at_fault(error)
        label = (form.fields[at_fault].label or "") if at_fault else ""
        message = error_message(error)
        return ChargeView(problem=f"{label}: {message}" if label else message)
    spec = quote.spec
    return ChargeView(
        quote=quote,
        balance_after=customer.balance - spec.charge,
        short_of_funds=error_message(PanelError(ErrorCode.NOT_ENOUGH_FUNDS))
        if customer.balance < spec.funds_needed
        else "",
        per_post=spec.funds_needed > spec.charge,
        package=form.kind.charge is Charge.PACKAGE,
    )


def completion_words(span: dt.timedelta | None) -> str:
    """An average completion time as people say it: "2 hours 15 minutes"."""
    if span is None:
        return str(_("Not enough data yet"))
    minutes = max(1, round(span.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts)


def customer_or_404(request: HttpRequest) -> Customer:
    """The logged-in customer; a login with no customer behind it (staff) has no pages here."""
    customer = request_customer(request)
    if customer is None:
        raise Http404(_("This login has no customer account."))
    return customer


# -- the views -------------------------------------------------------------------------------


def _service_context(
    customer: Customer, service: Service | None, form: OrderForm | None
) -> dict[str, Any]:
    if service is None:
        return {"service": None}
    form = form or OrderForm(service=service)
    return {
        "service": service,
        "kind": form.kind,
        "rate": effective_rate(customer, service),
        "is_package": form.kind.charge is Charge.PACKAGE,
        "dripfeed": form.kind.dripfeed and service.dripfeed,
        "completion": completion_words(average_completion(service.pk)),
        "form": form,
        # Afresh: the form may now hold order_place's refusal, and the charge is still worth
        # showing beside it (what a short balance lacks, say).
        "charge": _charge(customer, service, OrderForm(form.data, service=service))
        if form.is_bound
        else ChargeView(),
    }


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


FRAGMENTS = {
    "picker-lists": "web/order_new_picker.html",
    "service-area": "web/order_new_service.html",
}


@login_required
@require_http_methods(["GET", "POST"])
def order_new(request: HtmxHttpRequest) -> HttpResponse:
    customer = customer_or_404(request)
    picker = _picker(request, customer)
    service = picker.service
    form = None
    if request.method == "POST":
        if service is None:
            messages.error(request, error_message(PanelError(ErrorCode.INCORRECT_SERVICE)))
            return redirect("web:order_new")
        form = OrderForm(request.POST, service=service)
        if form.is_valid():
            try:
                order = order_place(
                    customer=customer,
                    service_id=service.pk,
                    params=form.order_request(),
                    actor="web",
                )
            except PanelError as error:
                form.add_panel_error(error)
            else:
                messages.success(
                    request,
                    _(
                        "Order #%(id)s placed: %(charge)s %(currency)s charged. "
                        "Your balance is now %(balance)s %(currency)s."
                    )
                    % {
                        "id": order.pk,
                        "charge": amount(order.charge),
                        "balance": amount(customer.balance),
                        "currency": customer.currency,
                    },
                )
                return redirect(f"{reverse('web:order_new')}?service={service.pk}")
    context = {"picker": picker, **_service_context(customer, service, form)}
    # htmx asks for the part it swaps: the lists as the search is typed, the service's
    # form and terms when another is chosen.
    fragment = FRAGMENTS.get(request.htmx.target or "") if request.method == "GET" else None
    if fragment is not None:
        return render(request, fragment, context)
    return render(request, "web/order_new.html", context)


@login_required
@require_POST
def order_charge(request: HttpRequest) -> HttpResponse:
    """The live charge box, for what the order form holds as it is typed."""
    customer = customer_or_404(request)
    service_id = parse_id(request.POST.get("service", ""))
    service = service_for_customer(customer, service_id) if service_id else None
    if service is None:
        charge = ChargeView(problem=error_message(PanelError(ErrorCode.INCORRECT_SERVICE)))
    else:
        charge = _charge(customer, service, OrderForm(request.POST, service=service))
    return render(request, "web/order_new_charge.html", {"charge": charge, "customer": customer})
