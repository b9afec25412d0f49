"""Suite-wide rules: floats never meet money, and the books add up after every test."""

from __future__ import annotations

import decimal
import os

import pytest
from django.db import connection

from tests.factories import Api


def pytest_configure(config: pytest.Config) -> None:
    # qrcode's SVG module (allauth.mfa draws the authenticator's QR code with it) makes a
    # Decimal from a float when imported: imported before the trap, which is for our money.
    import qrcode.image.svg  # noqa: F401

    # DefaultContext is what new threads (the live server's) start from.
    decimal.DefaultContext.traps[decimal.FloatOperation] = True
    decimal.getcontext().traps[decimal.FloatOperation] = True


def _uses_db(request: pytest.FixtureRequest) -> str | None:
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if "transactional_db" in names or "live_server" in names:
        return "transactional_db"
    if marker is not None:
        transactional = marker.kwargs.get("transaction") or (marker.args and marker.args[0])
        return "transactional_db" if transactional else "db"
    return "db" if "db" in names else None


@pytest.fixture(autouse=True)
def books_balance(request: pytest.FixtureRequest):
    """After every test that touched the database: balance == sum(ledger) for everyone."""
    fixture = _uses_db(request)
    if fixture is None:
        yield
        return
    # Requesting the db fixture from here makes it tear down after this check runs.
    request.getfixturevalue(fixture)
    yield
    from smmpanel.billing.services import ledger_verify

    assert ledger_verify() == [], "the ledger and the balances disagree"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with no request counted against it (the cache is per process).
    Only the in-process cache is cleared: clearing a Redis cache would empty a shared server."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
    yield


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


#: For what only PostgreSQL can prove (row locks, real parallel writers).
postgres_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")),
    reason="proven on PostgreSQL; SQLite has one writer at a time",
)

#: For tests that start the panel's own processes (web server, workers, simulator) and load
#: both CPUs for tens of seconds: under pytest-xdist (`--dist loadgroup`) one process runs
#: them one after another, so they never starve each other's timeouts and leases.
panel_processes = pytest.mark.xdist_group("panel-processes")
