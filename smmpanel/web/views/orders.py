"""The customer's orders, drip-feeds, subscriptions and refills, and one order's page.

Every list pages by keyset (`?before=<id>` older, `?after=<id>` newer; orders/selectors.py
`keyset_page`) and costs the same few queries whatever the customer's number of orders.
The refill and cancel buttons show exactly where the API would take the request: each row
asks the services' own rules (`refill_refusal`, `order_cancel_refusal`), and the buttons
post to views that call the same services the API's `refill` and `cancel` do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from smmpanel.accounts.models import Customer
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.parsing import parse_id, text_problem
from smmpanel.orders import selectors
from smmpanel.orders.models import Order
from smmpanel.orders.services import (
    order_cancel_refusal,
    order_cancel_request,
    refill_refusal,
    refill_request,
)
from smmpanel.orders.states import OrderStatus
from smmpanel.orders.subscriptions import posts_total
from smmpanel.orders.validation import MAX_LINK
from smmpanel.web.errors import error_message
from smmpanel.web.middleware import request_customer
from smmpanel.web.templatetags.order_tags import STATUS_WORDS

S = OrderStatus

#: The orders page's tabs after "All": the statuses API v2 `status` reports for an order
#: (the order's own status, as the API sends it).
TABS: tuple[OrderStatus, ...] = (
    S.PENDING,
    S.IN_PROGRESS,
    S.PROCESSING,
    S.COMPLETED,
    S.PARTIAL,
    S.CANCELED,
)


@dataclass(frozen=True)
class OrderRow:
    """An order as a list shows it: the order, its status in words, and its buttons."""

    order: Order
    can_refill: bool
    can_cancel: bool

    @property
    def posts_total(self) -> int | None:
        return posts_total(self.order)


def _rows(orders: list[Order], now: datetime) -> list[OrderRow]:
    """The rows of `orders` with the services' own answers to "would a refill / a cancel be
    taken?". One query (which of them have a refill open), none when there is no order."""
    open_refills = selectors.refilling(o.pk for o in orders)
    return [
        OrderRow(
            order=o,
            can_refill=refill_refusal(o, now=now, refill_open=o.pk in open_refills) is None,
            can_cancel=order_cancel_refusal(o) is None,
        )
        for o in orders
    ]


def _customer(request: HttpRequest) -> Customer:
    customer = request_customer(request)
    if customer is None:  # staff without a customer: these pages are a customer's
        raise Http404(_("These pages are for customers; this login has no customer account."))
    return customer


def _known_id(order_id: int) -> int:
    """An id from the path as the services take it: too big to be any order's is none."""
    if parse_id(order_id) is None:
        raise Http404(_("Order not found."))
    return order_id


def _cursor(request: HttpRequest, name: str) -> int | None:
    text = request.GET.get(name, "")
    if not text:
        return None
    number = parse_id(text) if text.isdecimal() else None
    if number is None:
        messages.warning(request, _("That page link is not valid; here are the newest."))
    return number


def _page(request: HttpRequest, rows: Any) -> selectors.Page[Any]:
    before, after = _cursor(request, "before"), _cursor(request, "after")
    if before is not None and after is not None:
        after = None
    return selectors.keyset_page(rows, before=before, after=after, size=selectors.PAGE_SIZE)


def _list(request: HttpRequest, template: str, rows: Any, **context: Any) -> HttpResponse:
    """A list page of `rows` (orders, or refills when `refills` is set in `context`)."""
    page = _page(request, rows)
    items = page.rows if context.pop("refills", False) else _rows(page.rows, timezone.now())
    query = request.GET.copy()
    for name in ("before", "after"):
        query.pop(name, None)
    return render(
        request,
        template,
        {
            "items": items,
            "page": page,
            "paged": "before" in request.GET or "after" in request.GET,
            # The page's own filters, kept on its page links.
            "keep": query.urlencode(),
            "back": request.get_full_path(),
            **context,
        },
    )


@login_required
@require_GET
def orders(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    status = request.GET.get("status", "")
    if status and status not in TABS:
        messages.warning(request, _("There is no such status; here are all orders."))
        status = ""
    search = request.GET.get("q", "").strip()
    if text_problem(search) or len(search) > MAX_LINK:
        messages.warning(request, _("That search cannot be read; here are all orders."))
        search = ""
    tabs: list[tuple[str, Promise, bool]] = [("", gettext_lazy("All"), not status)]
    tabs += [(s.value, STATUS_WORDS[s], status == s) for s in TABS]
    return _list(
        request,
        "web/orders.html",
        selectors.customer_orders(customer, status=status, search=search),
        tabs=tabs,
        status=status,
        search=search,
    )


@login_required
@require_GET
def dripfeeds(request: HttpRequest) -> HttpResponse:
    return _list(request, "web/dripfeeds.html", selectors.customer_dripfeeds(_customer(request)))


@login_required
@require_GET
def subscriptions(request: HttpRequest) -> HttpResponse:
    return _list(
        request, "web/subscriptions.html", selectors.customer_subscriptions(_customer(request))
    )


@login_required
@require_GET
def refills(request: HttpRequest) -> HttpResponse:
    rows = selectors.customer_refills(_customer(request))
    return _list(request, "web/refills.html", rows, refills=True)


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    customer = _customer(request)
    order = selectors.customer_order(customer, _known_id(order_id))
    if order is None:
        raise Http404(_("Order not found."))
    (row,) = _rows([order], timezone.now())
    children, children_total = selectors.order_children(order)
    return render(
        request,
        "web/order_detail.html",
        {
            "row": row,
            "order": order,
            "refills": selectors.order_refills(order),
            "children": children,
            "children_total": children_total,
            "back": request.get_full_path(),
        },
    )


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page the button was on (its `next`), else the orders page."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("web:orders")
    return redirect(target)


def _refused(request: HttpRequest, error: PanelError) -> HttpResponseRedirect:
    if error.code is ErrorCode.INCORRECT_ORDER:
        # Not theirs (or no such order): as if it did not exist, and nothing changed.
        raise Http404(error_message(error))
    messages.error(request, error_message(error))
    return _back(request)


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    """The API's `cancel` for one order: canceled and refunded at once when nobody has
    started it, else a request its fulfiller settles; a subscription stops."""
    customer = _customer(request)
    try:
        order = order_cancel_request(customer=customer, order_id=_known_id(order_id), actor="web")
    except PanelError as error:
        return _refused(request, error)
    if order.is_subscription:
        text = _("Subscription #%(id)s is stopped. Posts already ordered are still delivered.")
    elif order.status == S.CANCELED:
        text = _("Order #%(id)s is canceled and its charge is back on your balance.")
    else:
        text = _(
            "Cancel requested for order #%(id)s. What is not delivered will be refunded "
            "to your balance when it ends."
        )
    messages.success(request, text % {"id": order.pk})
    return _back(request)


@login_required
@require_POST
def order_refill(request: HttpRequest, order_id: int) -> HttpResponse:
    """The API's `refill` for one order."""
    customer = _customer(request)
    try:
        refill = refill_request(customer=customer, order_id=_known_id(order_id), actor="web")
    except PanelError as error:
        return _refused(request, error)
    messages.success(
        request,
        _("Refill #%(refill)s requested for order #%(order)s.")
        % {"refill": refill.pk, "order": order_id},
    )
    return _back(request)
