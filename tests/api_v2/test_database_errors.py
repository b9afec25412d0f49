"""Database errors (issue 13, item 10): a failure that clears by itself answers "busy, try
again"; one that will fail the same way on every retry (a full disk, a read-only database,
a missing table) answers that the panel cannot take requests, and is logged as an error
for the operator. Real failures where a test can cause them; elsewhere the real driver's
error classes, wrapped the way Django wraps them."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
from django.db import Error, connection, connections, transaction
from django.db.utils import DatabaseErrorWrapper

from smmpanel.accounts.models import Customer
from smmpanel.api_v2.db_errors import is_transient
from tests.api_v2.conftest import LINK, Caller
from tests.conftest import is_postgres, postgres_only
from tests.factories import make_customer, make_service

BUSY = {"error": "The panel is busy, please try again"}
DOWN = {"error": "The panel cannot take requests right now; the operator has been told"}

sqlite_only = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="a SQLite file's own failures; PostgreSQL's are below",
)


class _Backend:
    """What DatabaseErrorWrapper needs of a connection: its driver module."""

    def __init__(self, driver: object) -> None:
        self.Database = driver
        self.errors_occurred = False


def as_django_raises(driver_error: Exception, driver: object) -> Error:
    """`driver_error` as Django hands it to the code that ran the query."""
    try:
        with DatabaseErrorWrapper(_Backend(driver)):
            raise driver_error
    except Error as wrapped:
        return wrapped
    raise AssertionError("not wrapped")


def real_sqlite_error(tmp_path, cause: str) -> sqlite3.Error:
    """A failure SQLite itself raises, with its own result code."""
    path = tmp_path / f"{cause}.sqlite3"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE t (x TEXT)")
    setup.execute("INSERT INTO t VALUES ('a')")
    try:
        if cause == "locked":
            setup.execute("BEGIN IMMEDIATE")
            sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES ('b')")
        elif cause == "full":
            count = setup.execute("PRAGMA page_count").fetchone()[0]
            setup.execute(f"PRAGMA max_page_count = {count}")
            setup.execute("INSERT INTO t VALUES (?)", ["x" * 100_000])
        elif cause == "readonly":
            uri = f"file:{path}?mode=ro"
            sqlite3.connect(uri, uri=True).execute("INSERT INTO t VALUES ('b')")
        elif cause == "no table":
            setup.execute("SELECT * FROM missing")
    except sqlite3.Error as exc:
        return exc
    finally:
        setup.close()
    raise AssertionError(f"SQLite did not fail: {cause}")


@pytest.mark.parametrize(
    ("cause", "transient"),
    [("locked", True), ("full", False), ("readonly", False), ("no table", False)],
)
def test_real_sqlite_failures_are_sorted(tmp_path, cause, transient):
    error = as_django_raises(real_sqlite_error(tmp_path, cause), sqlite3)
    assert is_transient(error) is transient


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        ("database is locked", True),
        ("database table is locked", True),
        ("database or disk is full", False),
        ("disk I/O error", False),
        ("attempt to write a readonly database", False),
        ("unable to open database file", False),
    ],
)
def test_sqlite_failures_without_a_result_code_are_sorted_by_message(message, transient):
    assert is_transient(as_django_raises(sqlite3.OperationalError(message), sqlite3)) is transient


PSYCOPG = [
    (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), True),
    (psycopg.errors.SerializationFailure("could not serialize access"), True),
    (psycopg.errors.DeadlockDetected("deadlock detected"), True),
    (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), True),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
    (psycopg.errors.TooManyConnections("sorry, too many clients already"), True),
    (psycopg.errors.ConnectionFailure("connection failure"), True),
    (psycopg.OperationalError("consuming input failed: server closed the connection"), True),
    (psycopg.InterfaceError("the connection is closed"), True),
    (psycopg.errors.DiskFull("could not extend file: No space left on device"), False),
    (psycopg.errors.OutOfMemory("out of memory"), False),
    (psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
     False),
    (psycopg.errors.UndefinedTable('relation "orders_order" does not exist'), False),
    (psycopg.errors.InsufficientPrivilege("permission denied for table orders_order"), False),
    (psycopg.errors.DataCorrupted("invalid page in block 7"), False),
    (psycopg.ProgrammingError("the query has 1 placeholder but 2 parameters were passed"), False),
]  # fmt: skip


@pytest.mark.parametrize(("error", "transient"), PSYCOPG, ids=lambda e: type(e).__name__)
def test_postgresql_failures_are_sorted(error, transient):
    assert is_transient(as_django_raises(error, psycopg)) is transient


# --- through the API ----------------------------------------------------------------------


def errors_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@contextmanager
def sqlite_pragma(name: str, value: object) -> Iterator[None]:
    with connection.cursor() as cursor:
        before = cursor.execute(f"PRAGMA {name}").fetchone()[0]
        cursor.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {name} = {before}")


@sqlite_only
@pytest.mark.django_db
def test_a_full_sqlite_disk_is_not_busy_and_the_operator_hears_of_it(me: Caller, caplog):
    service = make_service(type="Custom Comments", rate="1.00", min=1, max=100_000)
    comments = "\n".join(f"comment number {n} " + "x" * 60 for n in range(800))
    with connection.cursor() as cursor:
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
    with sqlite_pragma("max_page_count", pages):
        reply = me("add", service=str(service.pk), link=LINK, comments=comments)
    assert reply == DOWN
    assert me.order_count() == 0 and me.balance() == 100
    [record] = errors_logged(caplog)
    assert record.exc_info and "database or disk is full" in str(record.exc_info[1])
    assert "add" in record.getMessage()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_locked_sqlite_database_is_busy_and_only_a_warning(me: Caller, caplog):
    service = make_service(rate="1.00", min=1)
    writer = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        with sqlite_pragma("busy_timeout", 50):
            reply = me("add", service=str(service.pk), link=LINK, quantity="100")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert reply == BUSY
    assert errors_logged(caplog) == []
    assert any(r.levelno == logging.WARNING and "busy" in r.getMessage() for r in caplog.records)
    assert me.order_count() == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_lock_timeout_is_busy_and_only_a_warning(me: Caller, caplog):
    service = make_service(rate="1.00", min=1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_customer_row() -> None:
        try:
            with transaction.atomic():
                Customer.objects.select_for_update().get(pk=me.customer.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_customer_row)
    holder.start()
    try:
        assert locked.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
        reply = me("add", service=str(service.pk), link=LINK, quantity="100")
    finally:
        release.set()
        holder.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert reply == BUSY
    assert errors_logged(caplog) == []
    assert me.order_count() == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_read_only_postgresql_is_not_busy_and_the_operator_hears_of_it(me: Caller, caplog):
    service = make_service(rate="1.00", min=1)
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    try:
        reply = me("add", service=str(service.pk), link=LINK, quantity="100")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET default_transaction_read_only")
    assert reply == DOWN
    [record] = errors_logged(caplog)
    assert record.exc_info and "read-only" in str(record.exc_info[1])
    assert me.order_count() == 0


def driver_error(transient: bool) -> Exception:
    """A real driver error of the database the tests run on."""
    if is_postgres():
        if transient:
            return psycopg.errors.SerializationFailure("could not serialize access")
        return psycopg.errors.DiskFull("could not extend file: No space left on device")
    error = sqlite3.OperationalError("database is locked" if transient else "disk I/O error")
    error.sqlite_errorcode = 5 if transient else 10  # type: ignore[attr-defined]
    return error


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("transient", [True, False], ids=["transient", "permanent"])
def test_over_http_every_action_sorts_database_failures(live_server, monkeypatch, caplog,
                                                        transient):  # fmt: skip
    _, key = make_customer("100")
    service = make_service(rate="1.00", min=1)

    def failing(**_: object) -> None:
        # Raised inside Django's own wrapper, as a failing query would be.
        with connection.wrap_database_errors:
            raise driver_error(transient)

    monkeypatch.setattr("smmpanel.orders.services.order_place", failing)
    monkeypatch.setattr("smmpanel.orders.services.order_cancel_request", failing)
    calls = [
        {"action": "add", "service": str(service.pk), "link": LINK, "quantity": "100"},
        {"action": "cancel", "order": "1"},
    ]
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        for params in calls:
            response = http.post("/api/v2", data={"key": key, **params})
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            assert response.json() == (BUSY if transient else DOWN), params
    if transient:
        assert errors_logged(caplog) == []
    else:
        assert len(errors_logged(caplog)) == len(calls)
        assert all(r.exc_info for r in errors_logged(caplog))
