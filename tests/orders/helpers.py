"""Shared builders for the order tests: real rows through the real services."""

from __future__ import annotations

from decimal import Decimal

from smmpanel.accounts.models import Customer
from smmpanel.billing.models import EntryKind, LedgerEntry
from smmpanel.catalog.models import Service, ServiceType
from smmpanel.orders.models import Order
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place

T = ServiceType
LINK = "https://instagram.com/p/abc123"
#: Five non-empty lines among blanks and both line endings.
FIVE_LINES = "first\r\nsecond\n\n  \nthird\r\nfourth\nfifth\n"


def balance_of(customer: Customer) -> Decimal:
    return Customer.objects.values_list("balance", flat=True).get(pk=customer.pk)


def entries(order: Order, kind: EntryKind) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(order_id=order.pk, kind=kind).order_by("id"))


def place(customer: Customer, service: Service, **params: str) -> Order:
    """Place an order from `add`'s parameters as the wire sends them (text), read as the
    API reads them: the validation tests speak the wire's strings."""
    return order_place(
        customer=customer, service_id=service.pk, params=OrderRequest.from_text(params)
    )


def params_for(type: str, *, quantity: str = "100", link: str = LINK) -> dict[str, str]:
    """Valid `add` parameters for each of the 14 types (api-v2.md's table)."""
    return {
        T.DEFAULT: {"link": link, "quantity": quantity},
        T.PACKAGE: {"link": link},
        T.CUSTOM_COMMENTS: {"link": link, "comments": FIVE_LINES},
        T.CUSTOM_COMMENTS_PACKAGE: {"link": link, "comments": FIVE_LINES},
        T.MENTIONS_WITH_HASHTAGS: {
            "link": link,
            "quantity": quantity,
            "usernames": "alice\nbob",
            "hashtags": "#one\n#two",
        },
        T.MENTIONS_CUSTOM_LIST: {"link": link, "usernames": FIVE_LINES},
        T.MENTIONS_HASHTAG: {"link": link, "quantity": quantity, "hashtag": "#panel"},
        T.MENTIONS_USER_FOLLOWERS: {"link": link, "quantity": quantity, "username": "alice"},
        T.MENTIONS_MEDIA_LIKERS: {
            "link": link,
            "quantity": quantity,
            "media": "https://instagram.com/p/media1",
        },
        T.COMMENT_LIKES: {"link": link, "quantity": quantity, "username": "alice"},
        T.COMMENT_REPLIES: {"link": link, "username": "alice", "comments": FIVE_LINES},
        T.POLL: {"link": link, "quantity": quantity, "answer_number": "2"},
        T.INVITES_FROM_GROUPS: {"link": link, "quantity": quantity, "groups": "group1\ngroup2"},
        T.SUBSCRIPTIONS: {"username": "alice", "min": "100", "max": "200", "delay": "0"},
    }[type]
