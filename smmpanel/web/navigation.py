"""The customer's menu, in one list: each page adds its line here.

An entry is (URL name, label). The header shows `MAIN` to a logged-in customer and
`PUBLIC` to everyone else; `ACCOUNT` fills the user menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MAIN: list[tuple[str, Promise]] = [
    # New order first: where a customer lands after logging in (LOGIN_REDIRECT_URL).
    ("web:order_new", _("New order")),
    ("web:order_mass", _("Mass order")),
]
PUBLIC: list[tuple[str, Promise]] = []
ACCOUNT: list[tuple[str, Promise]] = []


@dataclass(frozen=True)
class NavItem:
    url: str
    label: Promise
    active: bool


def nav_items(entries: list[tuple[str, Promise]], path: str) -> list[NavItem]:
    items = []
    for name, label in entries:
        url = reverse(name)
        items.append(NavItem(url, label, path == url or path.startswith(url + "/")))
    return items


# The orders pages (web/views/orders.py): drip-feed, subscriptions and refills are under
# /orders/ and reached from the orders pages' own tabs.
MAIN += [("web:orders", _("Orders"))]

# Services, tickets, API and account pages.
MAIN += [("web:services", _("Services")), ("web:tickets", _("Tickets"))]
PUBLIC += [("web:services", _("Services")), ("web:api", _("API"))]
ACCOUNT += [("web:account", _("Account")), ("web:api", _("API"))]

# Add funds and the payments history (the header's balance links to Add funds too).
MAIN += [("web:funds", _("Add funds"))]
ACCOUNT += [("web:payments", _("Payments"))]
