"""What each order type needs, and what it costs: api-v2.md's `add` table as code.

`order_spec` takes the parameters as strings, exactly as they arrived (API, form or
console), and either raises a PanelError naming what is wrong or returns everything
`order_place` needs to write the order. It reads nothing from the database.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.money import ZERO, price
from smmpanel.core.parsing import parse_whole, split_lines, text_problem
from smmpanel.orders.states import OrderStatus

T = ServiceType

#: The minutes a subscription may wait after a post (api-v2.md).
SUBSCRIPTION_DELAYS = (
    0, 5, 10, 15, 20, 30, 40, 50, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540,
    600,
)  # fmt: skip
#: No single order is for more units than this, however it is asked for.
MAX_UNITS = 1_000_000_000
MAX_LINK = 2000
#: The longest account name taken: every platform's limit is far below.
MAX_HANDLE = 100
MAX_TEXT = 100_000
MAX_LINES = 10_000

#: Per type: the parameters that must be present besides `service` (api-v2.md's table).
REQUIRED: dict[str, tuple[str, ...]] = {
    T.DEFAULT: ("link", "quantity"),
    T.PACKAGE: ("link",),
    T.CUSTOM_COMMENTS: ("link", "comments"),
    T.CUSTOM_COMMENTS_PACKAGE: ("link", "comments"),
    T.MENTIONS_WITH_HASHTAGS: ("link", "quantity", "usernames", "hashtags"),
    T.MENTIONS_CUSTOM_LIST: ("link", "usernames"),
    T.MENTIONS_HASHTAG: ("link", "quantity", "hashtag"),
    T.MENTIONS_USER_FOLLOWERS: ("link", "quantity", "username"),
    T.MENTIONS_MEDIA_LIKERS: ("link", "quantity", "media"),
    T.COMMENT_LIKES: ("link", "quantity", "username"),
    T.COMMENT_REPLIES: ("link", "username", "comments"),
    T.POLL: ("link", "quantity", "answer_number"),
    T.INVITES_FROM_GROUPS: ("link", "quantity", "groups"),
    T.SUBSCRIPTIONS: ("username", "min", "max", "delay"),
}
#: Types whose charged quantity is the number of lines in a list parameter.
COUNTED_LIST: dict[str, str] = {
    T.CUSTOM_COMMENTS: "comments",
    T.MENTIONS_CUSTOM_LIST: "usernames",
    T.COMMENT_REPLIES: "comments",
}
#: Free-text parameters copied onto the order, with their column size.
TEXT_FIELDS: dict[str, int] = {
    "comments": MAX_TEXT,
    "usernames": MAX_TEXT,
    "hashtags": MAX_TEXT,
    "groups": MAX_TEXT,
    "hashtag": 300,
    "username": 300,
    "media": MAX_LINK,
    "answer_number": 50,
}


@dataclass(frozen=True)
class ServiceTerms:
    """What validation needs to know of a service, at the price this customer pays."""

    type: str
    rate: Decimal
    min: int
    max: int
    dripfeed: bool


@dataclass
class OrderSpec:
    fields: dict[str, Any] = field(default_factory=dict)
    charged_quantity: int = 0
    charge: Decimal = ZERO
    status: OrderStatus = OrderStatus.PENDING
    #: Funds the balance must hold to accept the order (a subscription's first post).
    funds_needed: Decimal = ZERO


def _text(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""


def _missing(name: str) -> PanelError:
    return PanelError(ErrorCode.MISSING_PARAMETER, field=name)


def _whole(params: Mapping[str, str], name: str, *, minimum: int = 0) -> int:
    raw = _text(params, name)
    if not raw:
        raise _missing(name)
    number = parse_whole(raw)
    if number is None or number > MAX_UNITS:
        raise PanelError(ErrorCode.NOT_A_WHOLE_NUMBER, field=name)
    if number < minimum:
        raise PanelError(ErrorCode.BELOW_MINIMUM, field=name, minimum=minimum)
    return number


def _check_range(quantity: int, terms: ServiceTerms) -> None:
    if quantity < terms.min:
        raise PanelError(ErrorCode.QUANTITY_LESS, field="quantity", min=terms.min)
    if quantity > terms.max:
        raise PanelError(ErrorCode.QUANTITY_MORE, field="quantity", max=terms.max)


#: One label of a host name: letters of any script, digits, "-" (not at either end), "_".
_LABEL = r"(?!-)[\w-]{1,63}(?<!-)"
_PORT = r"(?::(?P<port>\d{1,5}))?"
#: The path, query and fragment: anything the character check lets through.
_REST = r"(?:[/?#].*)?"
_URL = re.compile(
    rf"https?://(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\]){_PORT}{_REST}",
    re.IGNORECASE | re.DOTALL,
)
#: A link pasted without its scheme: a domain with a top-level name of letters.
_TOP_LEVEL = r"(?:[^\W\d_]{1,63}|xn--[\w-]{1,59})"
_BARE = re.compile(rf"(?:{_LABEL}\.)+{_TOP_LEVEL}{_PORT}{_REST}", re.DOTALL)
#: An account as most platforms spell one: `bob`, `@some.account`, `user_name-1`.
_HANDLE = re.compile(r"@?\w[\w.-]*")
#: Characters no link or name carries: markup and quotes (the link is shown, sent on and
#: matched against), and backslashes, which some parsers read as slashes.
_NEVER = frozenset('<>"`\\')
#: Unicode categories of invisible or spacing characters: controls, formats (zero-width
#: spaces, right-to-left overrides), separators, surrogates, private use, unassigned.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _plain(text: str) -> bool:
    """No character a link or a name can hold only by accident or malice."""
    return text_problem(text) is None and not any(
        ch in _NEVER or unicodedata.category(ch) in _INVISIBLE for ch in text
    )


def _is_url(text: str) -> bool:
    match = _URL.fullmatch(text) or _BARE.fullmatch(text)
    return match is not None and int(match["port"] or 0) <= 65535


def _is_handle(text: str) -> bool:
    return len(text) <= MAX_HANDLE and _HANDLE.fullmatch(text) is not None


def clean_link(raw: str) -> str:
    """A link as given (trimmed): an http(s) URL, one pasted without `https://`, or the
    account it points at (`@bob`, `bob`: what follower services are ordered with)."""
    link = raw.strip()
    if not (0 < len(link) <= MAX_LINK and _plain(link) and (_is_url(link) or _is_handle(link))):
        raise PanelError(ErrorCode.BAD_LINK, field="link")
    return link


def _clean_media(name: str, value: str) -> str:
    if not (_plain(value) and _is_url(value)):
        raise PanelError(ErrorCode.NOT_A_LINK, field=name)
    return value


def _is_username(text: str) -> bool:
    return _plain(text) and (_is_handle(text) or _is_url(text))


def _clean_username(name: str, value: str) -> str:
    if not _is_username(value):
        raise PanelError(ErrorCode.NOT_A_USERNAME, field=name)
    return value


def _clean_usernames(name: str, value: str) -> str:
    for number, line in enumerate(value.splitlines(), start=1):
        if line.strip() and not _is_username(line.strip()):
            raise PanelError(ErrorCode.NOT_A_USERNAME_LINE, field=name, line=number)
    return value


#: Parameters whose text has a shape to check beyond being storable text.
SHAPED: dict[str, Callable[[str, str], str]] = {
    "username": _clean_username,
    "usernames": _clean_usernames,
    "media": _clean_media,
}


def _expiry(raw: str) -> dt.date:
    try:
        day = dt.datetime.strptime(raw, "%d/%m/%Y").date()
    except ValueError as exc:
        raise PanelError(ErrorCode.EXPIRY_FORMAT, field="expiry") from exc
    if day < dt.datetime.now(dt.UTC).date():
        raise PanelError(ErrorCode.EXPIRY_PASSED, field="expiry")
    return day


def order_spec(terms: ServiceTerms, params: Mapping[str, str]) -> OrderSpec:
    """Validate `params` for a service of `terms` and price the order."""
    kind = terms.type
    required = REQUIRED[kind]
    for name in required:
        if name == "link":
            continue  # a missing link is a "Bad link", the words clients know
        if not _text(params, name):
            raise _missing(name)

    spec = OrderSpec()
    fields = spec.fields
    if "link" in required:
        fields["link"] = clean_link(_text(params, "link"))
    for name, size in TEXT_FIELDS.items():
        if name in required:
            value = params[name].strip()
            if len(value) > size:
                raise PanelError(ErrorCode.TEXT_TOO_LONG, field=name, size=size)
            if problem := text_problem(value):
                raise PanelError(ErrorCode.TEXT_UNREADABLE, field=name, problem=problem)
            fields[name] = SHAPED[name](name, value) if name in SHAPED else value

    if kind == T.SUBSCRIPTIONS:
        return _subscription_spec(terms, params, spec)

    if kind in COUNTED_LIST:
        lines = split_lines(fields[COUNTED_LIST[kind]])
        if not lines:
            raise _missing(COUNTED_LIST[kind])
        if len(lines) > MAX_LINES:
            raise PanelError(ErrorCode.QUANTITY_MORE, field="quantity", max=terms.max)
        quantity = len(lines)
        _check_range(quantity, terms)
        spec.charged_quantity = quantity
        fields["quantity"] = quantity
    elif kind in (T.PACKAGE, T.CUSTOM_COMMENTS_PACKAGE):
        if kind == T.CUSTOM_COMMENTS_PACKAGE and not split_lines(fields["comments"]):
            raise _missing("comments")
        spec.charged_quantity = 1
        spec.charge = terms.rate
    else:
        quantity = _whole(params, "quantity")
        _check_range(quantity, terms)
        fields["quantity"] = quantity
        runs_raw = _text(params, "runs")
        if kind == T.DEFAULT and runs_raw:
            if not terms.dripfeed:
                raise PanelError(ErrorCode.DRIPFEED_UNAVAILABLE, field="runs")
            runs = _whole(params, "runs", minimum=2)
            interval = _whole(params, "interval", minimum=1)
            if quantity * runs > MAX_UNITS:
                raise PanelError(ErrorCode.QUANTITY_MORE, field="quantity", max=terms.max)
            fields["runs"], fields["interval"] = runs, interval
            spec.charged_quantity = quantity * runs
        else:
            spec.charged_quantity = quantity
    if not spec.charge:
        spec.charge = price(terms.rate, spec.charged_quantity)
    spec.funds_needed = spec.charge
    return spec


def _subscription_spec(
    terms: ServiceTerms, params: Mapping[str, str], spec: OrderSpec
) -> OrderSpec:
    fields = spec.fields
    low, high = _whole(params, "min"), _whole(params, "max")
    if low < terms.min:
        raise PanelError(ErrorCode.QUANTITY_LESS, field="min", min=terms.min)
    if high > terms.max:
        raise PanelError(ErrorCode.QUANTITY_MORE, field="max", max=terms.max)
    if low > high:
        raise PanelError(ErrorCode.MIN_ABOVE_MAX, field="min")
    delay = _whole(params, "delay")
    if delay not in SUBSCRIPTION_DELAYS:
        allowed = ", ".join(str(d) for d in SUBSCRIPTION_DELAYS)
        raise PanelError(ErrorCode.DELAY_NOT_OFFERED, field="delay", allowed=allowed)
    fields.update(sub_min=low, sub_max=high, sub_delay=delay, link=fields["username"])
    if _text(params, "posts"):
        fields["sub_posts"] = _whole(params, "posts", minimum=1)
    if _text(params, "old_posts"):
        fields["sub_old_posts"] = _whole(params, "old_posts")
    if expiry := _text(params, "expiry"):
        fields["sub_expiry"] = _expiry(expiry)
    spec.status = OrderStatus.ACTIVE
    # Paid per post as posts arrive; it must at least afford the largest first one.
    spec.funds_needed = price(terms.rate, high)
    return spec
