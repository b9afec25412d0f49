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
    # Drip-feed, subscriptions and refills live under /orders/, as the orders pages' tabs.
    ("web:orders", _("Orders")),
    ("web:services", _("Services")),
    ("web:funds", _("Add funds")),
    ("web:tickets", _("Tickets")),
]
PUBLIC: list[tuple[str, Promise]] = [
    ("web:services", _("Services")),
    ("web:api", _("API")),
]
ACCOUNT: list[tuple[str, Promise]] = [
    ("web:account", _("Account")),
    ("web:payments", _("Payments")),
    ("web:api", _("API")),
]


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
