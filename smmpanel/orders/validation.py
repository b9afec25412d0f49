"""The rules of an order's parameters, one by one: links, names, text, numbers, dates.

The kinds (kinds.py) say which parameters an order of each kind takes; the checks of any
one parameter live here, so every kind refuses the same thing with the same code.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable

from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.core.parsing import text_problem
from smmpanel.orders.request import OrderRequest

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


def missing(name: str) -> PanelError:
    return PanelError(ErrorCode.MISSING_PARAMETER, field=name)


def whole(request: OrderRequest, name: str, *, minimum: int = 0) -> int:
    """A whole-number parameter that must be given, at least `minimum`."""
    number = getattr(request, name)
    if not request.given(name):
        raise missing(name)
    if number is None or number > MAX_UNITS:
        raise PanelError(ErrorCode.NOT_A_WHOLE_NUMBER, field=name)
    if number < minimum:
        raise PanelError(ErrorCode.BELOW_MINIMUM, field=name, minimum=minimum)
    return int(number)


def clean_text(name: str, value: str, *, size: int) -> str:
    """A free-text parameter that can be stored and passed on, in its shape if it has one."""
    if len(value) > size:
        raise PanelError(ErrorCode.TEXT_TOO_LONG, field=name, size=size)
    if problem := text_problem(value):
        raise PanelError(ErrorCode.TEXT_UNREADABLE, field=name, problem=problem)
    return SHAPED[name](name, value) if name in SHAPED else value


def clean_expiry(request: OrderRequest) -> dt.date:
    if request.expiry is None:
        raise PanelError(ErrorCode.EXPIRY_FORMAT, field="expiry")
    if request.expiry < dt.datetime.now(dt.UTC).date():
        raise PanelError(ErrorCode.EXPIRY_PASSED, field="expiry")
    return request.expiry
