"""The API page: API v2's documentation drawn from what this panel runs, and the key.

The actions come from api_v2's own table, the order types and their parameters from the
order kinds (orders/kinds.py), the examples from the live catalog at the reader's price;
nothing here is a second description that could drift from the code. A customer also gets
their key: made (or made anew, revoking the old) by a POST, and shown on that answer only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from smmpanel.accounts.models import ApiKey, Customer
from smmpanel.accounts.selectors import api_keys_active
from smmpanel.accounts.services import api_key_rotate
from smmpanel.api_v2 import actions
from smmpanel.api_v2.views import ACTIONS
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.money import format_money
from smmpanel.orders.kinds import KINDS, Charge, OrderKind
from smmpanel.orders.validation import SUBSCRIPTION_DELAYS
from smmpanel.web.middleware import request_customer

#: What each parameter of `add` means, by name (the kinds say which type takes which).
PARAMETERS: dict[str, Promise] = {
    "service": _("The service ID, from the services action."),
    "link": _("The page, post or account to deliver to (https://...)."),
    "quantity": _("How many, between the service's min and max."),
    "runs": _("Drip-feed: how many deliveries of the quantity (at least 2)."),
    "interval": _("Drip-feed: minutes between two runs (at least 1)."),
    "comments": _("One comment per line."),
    "usernames": _("One username per line."),
    "hashtags": _("One hashtag per line."),
    "hashtag": _("The hashtag."),
    "username": _("An account name, or a link to the account."),
    "media": _("A link to the media."),
    "answer_number": _("The number of the poll's answer."),
    "groups": _("One group per line."),
    "min": _("Subscription: the least delivered to each post."),
    "max": _("Subscription: the most delivered to each post."),
    "posts": _("Subscription: how many new posts to serve; unlimited when left out."),
    "old_posts": _("Subscription: how many of the existing posts to serve too."),
    "delay": _("Subscription: minutes to wait after a post, one of: {delays}."),
    "expiry": _("Subscription: the last day, as d/m/Y (31/12/2026)."),
}

#: A value of each parameter for the examples.
EXAMPLE_VALUES: dict[str, str] = {
    "link": "https://instagram.com/p/Cxyz123",
    "runs": "4",
    "interval": "30",
    "comments": "Great post!\nLove it",
    "usernames": "some.account\nanother_account",
    "hashtags": "#sunset\n#travel",
    "hashtag": "#sunset",
    "username": "some.account",
    "media": "https://instagram.com/p/Cxyz123",
    "answer_number": "2",
    "groups": "https://t.me/somegroup",
    "min": "100",
    "max": "200",
    "posts": "10",
    "delay": "30",
}

CHARGED: dict[Charge, Promise] = {
    Charge.QUANTITY: _("the quantity"),
    Charge.LINES: _("one unit per line of {counted}"),
    Charge.PACKAGE: _("one package: the rate is its price"),
}


@dataclass
class Param:
    name: str
    required: bool
    help: str


@dataclass
class ActionDoc:
    name: str
    summary: Promise
    params: list[Param]
    reply: Any
    #: A second reply shape, for the form of the action that takes several ids.
    multi_reply: Any = None
    example: dict[str, str] = field(default_factory=dict)

    @property
    def reply_json(self) -> str:
        return json.dumps(self.reply, indent=2, ensure_ascii=False)

    @property
    def multi_reply_json(self) -> str:
        return (
            json.dumps(self.multi_reply, indent=2, ensure_ascii=False) if self.multi_reply else ""
        )


@dataclass
class TypeDoc:
    type: str
    params: list[Param]
    charged: str
    service_id: int
    example: dict[str, str]

    @property
    def curl(self) -> str:
        """The `-d` options of the type's own parameters, one per line of a shell command."""
        return " \\\n     ".join(
            f"-d {name}={_shell(value)}"
            for name, value in self.example.items()
            if name not in {"action", "service"}
        )


def _shell(value: str) -> str:
    if all(ch.isalnum() or ch in "._-:/#" for ch in value):
        return value
    return "$'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


#: Refusals worth knowing by heart, in the exact words the API sends (core/errors.py).
ERRORS = [
    PanelError(ErrorCode.INVALID_KEY),
    PanelError(ErrorCode.INCORRECT_SERVICE),
    PanelError(ErrorCode.BAD_LINK),
    PanelError(ErrorCode.QUANTITY_LESS, min=50),
    PanelError(ErrorCode.QUANTITY_MORE, max=10000),
    PanelError(ErrorCode.NOT_ENOUGH_FUNDS),
    PanelError(ErrorCode.ACTIVE_ORDER_LINK),
    PanelError(ErrorCode.MISSING_PARAMETER, field="comments"),
    PanelError(ErrorCode.INCORRECT_ORDER),
    PanelError(ErrorCode.CANCEL_UNAVAILABLE),
]


def _param(name: str, required: bool) -> Param:
    words = str(PARAMETERS.get(name, ""))
    if "{delays}" in words:
        words = words.format(delays=", ".join(str(d) for d in SUBSCRIPTION_DELAYS))
    return Param(name, required, words)


def _example(kind: OrderKind, service: dict[str, Any]) -> dict[str, str]:
    values = {"action": "add", "service": str(service["service"])}
    for name in kind.required:
        values[name] = EXAMPLE_VALUES.get(name, service["min"])
    if "quantity" in values:
        values["quantity"] = service["min"]
    if "min" in kind.required:  # a subscription's per-post range, inside the service's
        values["min"], values["max"] = service["min"], service["max"]
    return values


def _types(listing: list[dict[str, Any]]) -> list[TypeDoc]:
    """One entry per order type on sale, in the catalog's order, with a service of it."""
    first: dict[str, dict[str, Any]] = {}
    for service in listing:
        if service["type"] in KINDS:
            first.setdefault(service["type"], service)
    docs = []
    for type_, service in first.items():
        kind = KINDS[type_]
        params = [_param(n, True) for n in kind.required]
        params += [_param(n, False) for n in kind.optional]
        words = _("the quantity, times runs for a drip-feed") if kind.dripfeed else None
        charged = str(words or CHARGED[kind.charge]).format(counted=kind.counted)
        docs.append(TypeDoc(type_, params, charged, service["service"], _example(kind, service)))
    return docs


def _actions(listing: list[dict[str, Any]], reader: Customer) -> list[ActionDoc]:
    """Every action with its parameters and a reply as `reader` would get it."""
    balance = format_money(reader.balance) if reader.pk else "100.84292"
    docs = [
        ActionDoc(
            "services",
            _("The services you can order, at your price per 1000 (a package: its price)."),
            [],
            listing[:1],
        ),
        ActionDoc(
            "add",
            _("Places an order; its parameters depend on the service's type (below)."),
            [_param("service", True), Param("...", True, str(_("By the service's type.")))],
            {"order": 23501},
        ),
        ActionDoc(
            "status",
            _("An order's status; with orders, up to 100 at once."),
            [
                Param("order", True, str(_("An order ID."))),
                Param("orders", False, str(_("Or: order IDs, comma-separated."))),
            ],
            {
                "charge": "0.27819",
                "start_count": "3572",
                "status": "Partial",
                "remains": "157",
                "currency": reader.currency,
            },
            {
                "1": {"charge": "0.27819", "status": "Completed"},
                "10": {"error": "Incorrect order ID"},
            },
        ),
        ActionDoc(
            "refill",
            _("Asks for a refill of a completed order, where the service offers it."),
            [
                Param("order", True, str(_("An order ID."))),
                Param("orders", False, str(_("Or: order IDs, comma-separated."))),
            ],
            {"refill": "1"},
            [{"order": 1, "refill": 1}, {"order": 3, "refill": {"error": "Incorrect order ID"}}],
        ),
        ActionDoc(
            "refill_status",
            _("A refill's status."),
            [
                Param("refill", True, str(_("A refill ID."))),
                Param("refills", False, str(_("Or: refill IDs, comma-separated."))),
            ],
            {"status": "Completed"},
            [
                {"refill": 1, "status": "Completed"},
                {"refill": 3, "status": {"error": "Refill not found"}},
            ],
        ),
        ActionDoc(
            "cancel",
            _("Asks to cancel orders, where the service offers it; the rest is refunded."),
            [Param("orders", True, str(_("Order IDs, comma-separated (or order: one ID).")))],
            [{"order": 9, "cancel": {"error": "Incorrect order ID"}}, {"order": 2, "cancel": 1}],
        ),
        ActionDoc(
            "balance",
            _("Your balance."),
            [],
            {"balance": balance, "currency": reader.currency},
        ),
    ]
    # The table the API dispatches on is the list documented: a new action shows up as
    # undocumented in the tests rather than missing here.
    return [doc for doc in docs if doc.name in ACTIONS]


def _keys_token(keys: list[ApiKey]) -> str:
    """The keys a page showed, sent back by its "make a new key" form as the ones to replace."""
    return ",".join(str(key.pk) for key in keys)


def api_docs(request: HttpRequest) -> HttpResponse:
    customer = request_customer(request)
    new_key = None
    sent_again = False
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if customer is None:  # staff without a customer: there is no key to make
            raise Http404
        replaces = request.POST.get("replaces")
        if replaces is not None and replaces != _keys_token(api_keys_active(customer)):
            # The form came again for keys already replaced: a reload of the answer that
            # showed the new key, or a double click. Another key would revoke that one unseen.
            sent_again = True
        else:
            _row, new_key = api_key_rotate(customer=customer, label="made on the API page")
    # The `services` reply as this reader would get it. A visitor is read as a customer
    # with no discount and no custom rate (never saved): the listed prices.
    reader = customer if customer is not None else Customer()
    listing = actions.services(reader, {})
    types = _types(listing)
    default = next((t for t in types if t.type == "Default"), None)
    keys = api_keys_active(customer) if customer is not None else []
    context = {
        "api_url": request.build_absolute_uri(reverse("api_v2")),
        "actions": _actions(listing, reader),
        "types": types,
        "example_service": default.service_id if default else 1,
        "example_quantity": default.example.get("quantity", "1000") if default else "1000",
        "keys": keys,
        "keys_token": _keys_token(keys),
        "new_key": new_key,
        "sent_again": sent_again,
        "errors": [e.message for e in ERRORS],
        "key_text": new_key or "YOUR_API_KEY",
    }
    response = render(request, "web/api.html", context)
    if new_key:
        # The key is on this answer only: no browser or proxy keeps a copy.
        add_never_cache_headers(response)
    return response
