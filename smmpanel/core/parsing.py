"""Reading numbers that arrive as strings on the wire, the way real clients send them.

Clients that parse JSON numbers as floats echo ids back as `23501.0` or `2.3501e+04`
(Go's `%v` prints 12345678 as `1.2345678e+07`); any whole-valued number is accepted.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")

#: Bigger than any id or count we store (BIGINT), small enough to never overflow a column.
MAX_WHOLE = 2**63 - 1


def parse_whole(text: object) -> int | None:
    """`text` as a whole number, or None if it is not one (or is absurdly large)."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if abs(text) <= MAX_WHOLE else None
    if not isinstance(text, str):
        return None
    token = text.strip()
    if not token or len(token) > 40:
        return None
    try:
        value = Decimal(token)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    # Huge exponents ("1e999999") are finite Decimals; keep them out of int().
    if value.adjusted() > 19:
        return None
    number = int(value)
    return number if abs(number) <= MAX_WHOLE else None


def parse_id(text: object) -> int | None:
    """A positive whole number, or None."""
    number = parse_whole(text)
    return number if number is not None and number > 0 else None


def split_list(text: str) -> list[str]:
    """Comma-separated tokens (`1,2,3`, `1, 2, 3`), blanks dropped, each stripped."""
    return [token.strip() for token in text.split(",") if token.strip()]


def split_lines(text: str) -> list[str]:
    """A `\\r\\n`- or `\\n`-separated list, blank lines dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored or passed on as text, or None when it can.

    A JSON body can carry a lone UTF-16 surrogate (`"\\ud83d"`: half of an emoji a client
    cut in two), which no driver or upstream request can encode, and a NUL, which
    PostgreSQL refuses in text. U+FFFD is what undecodable bytes become: the client did not
    send UTF-8, and what it meant is lost."""
    if "\x00" in text:
        return "contains a NUL character"
    if _LONE_SURROGATE.search(text):
        return "contains a lone surrogate (\\ud800-\\udfff), which is not valid Unicode"
    if "\ufffd" in text:
        return "contains U+FFFD, the mark of bytes that were not UTF-8; send UTF-8 text"
    return None
