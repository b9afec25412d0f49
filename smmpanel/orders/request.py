"""What a customer asks for when placing an order, as typed values.

The API reads it from wire strings (`OrderRequest.from_text`); a web form or the console
builds it from its own typed fields. A value that was sent but is not of its parameter's
type is named in `malformed`, so the order's kind refuses it at the same point, with the
same code, whichever way it came in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from smmpanel.core.parsing import parse_whole

#: The date format of `expiry` on the wire (api-v2.md).
EXPIRY_FORMAT = "%d/%m/%Y"


@dataclass(frozen=True)
class OrderRequest:
    """Every parameter of `add` besides `service`; text is trimmed, "" and None are absent."""

    link: str = ""
    quantity: int | None = None
    runs: int | None = None
    interval: int | None = None
    comments: str = ""
    usernames: str = ""
    hashtags: str = ""
    groups: str = ""
    hashtag: str = ""
    username: str = ""
    media: str = ""
    answer_number: str = ""
    min: int | None = None
    max: int | None = None
    delay: int | None = None
    posts: int | None = None
    old_posts: int | None = None
    expiry: dt.date | None = None
    #: Parameters sent with a value that is not of their type.
    malformed: frozenset[str] = field(default_factory=frozenset)

    def given(self, name: str) -> bool:
        """Whether `name` was sent at all (well-formed or not)."""
        return name in self.malformed or getattr(self, name) not in ("", None)

    @classmethod
    def from_text(cls, params: Mapping[str, str]) -> OrderRequest:
        """Read the parameters as they arrive on the wire: every value a string."""
        values: dict[str, object] = {}
        malformed: set[str] = set()
        for name in (f.name for f in fields(cls) if f.name != "malformed"):
            raw = params.get(name)
            text = raw.strip() if isinstance(raw, str) else ""
            if not text:
                continue
            if name in _DATES:
                try:
                    values[name] = dt.datetime.strptime(text, EXPIRY_FORMAT).date()
                except ValueError:
                    malformed.add(name)
            elif name in _WHOLE:
                values[name] = number = parse_whole(text)
                if number is None:
                    malformed.add(name)
            else:
                values[name] = text
        return cls(**values, malformed=frozenset(malformed))  # type: ignore[arg-type]


_WHOLE = frozenset({"quantity", "runs", "interval", "min", "max", "delay", "posts", "old_posts"})
_DATES = frozenset({"expiry"})
