"""API keys never reach a log.

Clients that use GET carry the key in the query string (`/api/v2?key=…&action=balance`),
and every server logs the request line. `RedactKeys` is a logging filter that rewrites any
`key=<value>` query parameter in a record's message to `key=[redacted]`; settings.LOGGING
puts it on every handler that prints, and `smmpanel serve` on gunicorn's own loggers.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
#: A query parameter `name=value`, after `?`, `&` or `;` (or a space or quote, in free
#: text); the value runs to the next separator, space or quote.
_PARAMETER = re.compile(r"""(?:(?<=[?&;\s"'])|^)([^=&;#\s"'?]+)=([^&;#\s"']*)""")
#: Names read as the API key. Django decodes a name before matching it (`k%65y` is `key`).
_SECRET_NAMES = frozenset({"key"})


def _hide(match: re.Match[str]) -> str:
    if unquote_plus(match[1]).strip().lower() in _SECRET_NAMES:
        return f"{match[1]}={REDACTED}"
    return match[0]


def redact_keys(text: str) -> str:
    """`text` with the value of every `key=` query parameter replaced."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(_hide, text)


class RedactKeys(logging.Filter):
    """Rewrite a record's message with its keys redacted; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report
            return True
        redacted = redact_keys(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
