"""Fixed-window request counters on Django's cache.

The cache is Redis when `REDIS_URL` is set, so every web process counts together; otherwise
each process counts on its own (the limit then applies per process). `add` then `incr` are
atomic on both, so concurrent requests never lose a count. A cache that fails lets the
request through (logged): a limiter must never be what takes the API down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `count` hits per `seconds`; a count of 0 turns the limit off."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """ "600/60" is 600 per minute; "0" (or "") is no limit."""
        text = text.strip()
        if text in {"", "0"}:
            return cls(0, 1)
        count, _, seconds = text.partition("/")
        limit = cls(int(count), int(seconds or "60"))
        if limit.count < 0 or limit.seconds < 1:
            raise ValueError(f"a rate limit is COUNT/SECONDS, like 600/60: {text!r}")
        return limit

    @property
    def off(self) -> bool:
        return self.count == 0


def _key(scope: str, ident: str, limit: Limit, now: float) -> tuple[str, float]:
    window = math.floor(now / limit.seconds)
    # Hashed: an API key never sits in the cache in plain text.
    digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{window}", (window + 1) * limit.seconds - now


def hit(scope: str, ident: str, limit: Limit) -> int | None:
    """Count one hit; the seconds to wait when this one is over the limit, else None."""
    if limit.off:
        return None
    key, left = _key(scope, ident, limit, time.time())
    try:
        cache.add(key, 0, timeout=limit.seconds + 1)
        count = cache.incr(key)
    except Exception:  # the cache is down or evicted the key between add and incr
        log.warning("rate limit %s not counted: the cache failed", scope, exc_info=True)
        return None
    return max(1, math.ceil(left)) if count > limit.count else None


def exceeded(scope: str, ident: str, limit: Limit) -> int | None:
    """Whether `ident` is already over the limit in this window, without counting a hit."""
    if limit.off:
        return None
    key, left = _key(scope, ident, limit, time.time())
    try:
        count = cache.get(key, 0)
    except Exception:
        log.warning("rate limit %s not read: the cache failed", scope, exc_info=True)
        return None
    return max(1, math.ceil(left)) if count >= limit.count else None


def client_address(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or behind `PROXY_HOPS` trusted proxies the address
    the outermost of them saw (X-Forwarded-For read from the right, so a client cannot
    choose it by sending its own header)."""
    hops = int(settings.PROXY_HOPS)
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return str(forwarded[-hops])
    return str(request.META.get("REMOTE_ADDR", ""))


def login_username(request: HttpRequest | None, credentials: dict[str, object] | None) -> str:
    """The name a failed login tried, for django-axes: the admin sends `username`, the
    customer pages (allauth) `login`, and allauth authenticates by `username` or `email`."""
    for source in (credentials or {}, getattr(request, "POST", {}) or {}):
        for field in ("username", "email", "login"):
            value = source.get(field)
            if value:
                return str(value).strip().lower()
    return ""
