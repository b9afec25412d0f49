"""`/healthz`: whether this process can serve, for a load balancer or an orchestrator.

It answers 200 when the database answers (and the shared cache, when there is one), else
503, naming which part failed and nothing more: no versions, no counts, no secrets.
"""

from __future__ import annotations

import logging

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            row = cursor.fetchone()
            return row is not None and tuple(row) == (1,)
    except Exception:
        log.warning("healthz: the database does not answer", exc_info=True)
        return False


def _cache() -> bool | None:
    """None: the cache is this process's own memory, nothing to check."""
    cache = caches["default"]
    if isinstance(cache, LocMemCache):
        return None
    try:
        cache.get("healthz")
        return True
    except Exception:
        log.warning("healthz: the cache does not answer", exc_info=True)
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {"database": "ok" if _database() else "down"}
    cache = _cache()
    if cache is not None:
        checks["cache"] = "ok" if cache else "down"
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503
    )
