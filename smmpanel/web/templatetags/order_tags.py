"""Template helpers for the orders pages: a status as a badge in the customer's language, and
an order's link as something to click only when it is a web address."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from smmpanel.orders.states import OrderStatus, RefillStatus

register = template.Library()

S = OrderStatus
R = RefillStatus

#: An order's status in the customer's language (the value is API v2's word for it).
STATUS_WORDS: dict[str, Promise] = {
    S.PENDING: _("Pending"),
    S.IN_PROGRESS: _("In progress"),
    S.PROCESSING: _("Processing"),
    S.COMPLETED: _("Completed"),
    S.PARTIAL: _("Partial"),
    S.CANCELED: _("Canceled"),
    S.ACTIVE: _("Active"),
    S.PAUSED: _("Paused"),
    S.EXPIRED: _("Expired"),
}
REFILL_WORDS: dict[str, Promise] = {
    R.PENDING: _("Pending"),
    R.IN_PROGRESS: _("In progress"),
    R.COMPLETED: _("Completed"),
    R.REJECTED: _("Rejected"),
    R.ERROR: _("Error"),
}
#: Bootstrap's colour of each status's badge (orders' and refills' share their words).
BADGES: dict[str, str] = {
    "Pending": "text-bg-secondary",
    "In progress": "text-bg-info",
    "Processing": "text-bg-primary",
    "Completed": "text-bg-success",
    "Partial": "text-bg-warning",
    "Canceled": "text-bg-danger",
    "Active": "text-bg-success",
    "Paused": "text-bg-warning",
    "Expired": "text-bg-secondary",
    "Rejected": "text-bg-danger",
    "Error": "text-bg-danger",
}


@dataclass(frozen=True)
class Badge:
    words: Promise | str
    css: str


@register.filter
def status_badge(status: str) -> Badge:
    return Badge(STATUS_WORDS.get(status, status), BADGES.get(status, "text-bg-light"))


@register.filter
def refill_badge(status: str) -> Badge:
    return Badge(REFILL_WORDS.get(status, status), BADGES.get(status, "text-bg-light"))


@register.filter
def web_url(link: str) -> str:
    """`link` when it is an http(s) address (safe to put in an href), else ''. Links are
    checked when an order is placed; this keeps a handle like @name from becoming a
    relative address."""
    return link if link.lower().startswith(("https://", "http://")) else ""


@register.filter
def short_link(link: str) -> str:
    """A link as a narrow column shows it: without its scheme and `www.`, the part that
    tells links apart (the whole link is the cell's title)."""
    for prefix in ("https://", "http://"):
        if link.lower().startswith(prefix):
            link = link[len(prefix) :]
            break
    return link.removeprefix("www.")
