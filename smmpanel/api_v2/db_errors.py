"""Database failures sorted by what an API client should do about them.

A transient failure clears by itself — a lock not granted in time, a serialization
conflict or deadlock, a lost or refused connection, a server restarting — so the client
hears that the panel is busy and retries. Anything else fails the same way on every retry
(a full disk, a read-only or missing database, a table missing after a bad deploy, a
defect in a query): the client is told to stop, and the operator hears of it in the
error log. Retrying those forever was what clients did when every failure said "busy".
"""

from __future__ import annotations

from django.db import Error, InterfaceError, OperationalError

BUSY = "The panel is busy, please try again"
DOWN = "The panel cannot take requests right now; the operator has been told"

#: PostgreSQL SQLSTATEs that clear by themselves.
_TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available: lock_timeout, NOWAIT
        "57014",  # query_canceled: statement_timeout
        "57P01",  # admin_shutdown: a restart
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: starting up, in recovery
        "53300",  # too_many_connections
        "25P03",  # idle_in_transaction_session_timeout
    }
)
#: Class 08: connection exceptions (lost, refused, reset).
_TRANSIENT_SQLSTATE_CLASSES = ("08",)
#: SQLite primary result codes that clear by themselves: SQLITE_BUSY, SQLITE_LOCKED.
_SQLITE_TRANSIENT = frozenset({5, 6})
_SQLITE_TRANSIENT_MESSAGES = ("database is locked", "database table is locked")


def is_transient(exc: Error) -> bool:
    """Whether the failure `exc` (as Django raised it) may clear on a retry."""
    if isinstance(exc, InterfaceError):
        return True  # the connection itself: Django opens a new one for the next request
    driver = exc.__cause__ if exc.__cause__ is not None else exc
    if hasattr(driver, "sqlstate"):  # psycopg
        sqlstate = driver.sqlstate
        if sqlstate is None:
            # No answer from the server at all: the connection failed or was lost.
            return isinstance(exc, OperationalError)
        return sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith(_TRANSIENT_SQLSTATE_CLASSES)
    code = getattr(driver, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_TRANSIENT  # the low byte is the primary code
    message = str(driver).lower()
    return any(words in message for words in _SQLITE_TRANSIENT_MESSAGES)
