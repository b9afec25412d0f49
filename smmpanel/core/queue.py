"""The database is the queue: claim due rows with a lease, work outside the transaction.

A claim is a short transaction that picks due, unleased rows — `SKIP LOCKED` on PostgreSQL,
so workers never wait for or take each other's rows; SQLite's single writer serialises the
same step — and stamps them with this worker's name and a lease expiry. Whatever the worker
then records is conditional on still holding the lease; a killed worker's leases simply
expire and the rows become due again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, models, transaction
from django.db.models import Q


def lease_free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def claim(
    model: type[models.Model],
    due: Q,
    *,
    owner: str,
    limit: int,
    lease: timedelta,
    now: datetime,
) -> list[int]:
    """Lease up to `limit` rows of `model` matching `due` whose next_check_at has come."""
    with transaction.atomic():
        rows = (
            model._default_manager.filter(due, next_check_at__lte=now)
            .filter(lease_free(now))
            .order_by("next_check_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        ids = list(rows.values_list("id", flat=True)[:limit])
        if ids:
            model._default_manager.filter(id__in=ids).update(
                lease_until=now + lease, lease_owner=owner
            )
    return ids


def release(model: type[models.Model], ids: list[int], *, owner: str) -> None:
    """Give leases back early (work done, or nothing to do)."""
    if ids:
        model._default_manager.filter(id__in=ids, lease_owner=owner).update(
            lease_until=None, lease_owner=""
        )
