"""The orders-pages bench: a customer's orders page with 100,000 orders next to the same page
of a customer with 60, all measured in this one run.

One process renders the pages through Django's whole stack (test client: session, login,
middleware, template) against a real database, DEBUG off as in production:

- baseline: `/orders` of a customer with `--pages-small` (60) orders: the same 50 rows
  rendered, so the ratios show what the other 99,940 orders cost;
- the big customer (`--pages-orders`, 100,000, bulk-inserted in one INSERT ... SELECT and
  spread over the six statuses, among `--pages-others` (100,000) orders of 100 other
  customers): the first page, a keyset page deep in the list
  (`?before=<id>` 90% of the way down), a status tab's first and deep page, a search by id,
  the drip-feed, subscriptions and refills pages;
- for comparison, the rows of that deep page fetched by OFFSET, as a page number would.

Each is the median of `--pages-rounds` requests after a warm-up; the report gives the ratio
to the baseline, the queries each request ran and the index the rows query uses (the
database's own plan). Not a test: nothing here asserts a speed.

    python -m bench --only pages [--pages-orders 100000] [--pages-rounds 30]
                    [--database-url postgres://postgres@127.0.0.1:5432]

SQLite lives in a temporary SMMPANEL_VAR, removed at the end; with --database-url the bench
creates its own database on that (loopback) server and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bench.fulfillment import _database, _insert_series

PAGE = 50
STATUSES = ("Pending", "In progress", "Processing", "Completed", "Partial", "Canceled")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pages-orders", type=int, default=100_000, help="the big customer's orders (100,000)"
    )
    parser.add_argument(
        "--pages-small",
        type=int,
        default=60,
        help="the baseline customer's orders (60: a full first page, like the big one's)",
    )
    parser.add_argument(
        "--pages-others",
        type=int,
        default=100_000,
        help="other customers' orders, 1,000 each, half before and half after (100,000)",
    )
    parser.add_argument(
        "--pages-rounds", type=int, default=30, help="requests per page, median taken (30)"
    )


def run(args: argparse.Namespace) -> None:
    """The whole bench; `args` as add_arguments() defines them, plus database_url."""
    if "django" in sys.modules:
        from django.conf import settings

        if settings.configured:  # on another bench's database: start afresh in a child
            sys.stdout.flush()
            subprocess.run(
                [sys.executable, "-m", "bench.orders_pages",
                 "--pages-orders", str(args.pages_orders),
                 "--pages-small", str(args.pages_small),
                 "--pages-others", str(args.pages_others),
                 "--pages-rounds", str(args.pages_rounds),
                 "--database-url", args.database_url],
                check=True,
            )  # fmt: skip
            return
    var = tempfile.mkdtemp(prefix="smmpanel-bench-pages-")
    try:
        with _database(args.database_url) as url:
            _run(args, var, url)
    finally:
        shutil.rmtree(var, ignore_errors=True)


def _median_ms(call: Callable[[], Any], rounds: int) -> float:
    call()  # warm-up: template compiled, connection open, pages in the database's cache
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class _Counter:
    """A database execute wrapper that counts the statements run through it."""

    def __init__(self) -> None:
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def __call__(self, execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        self.count += 1
        return execute(sql, *args)


def _index_used(plan: str) -> str:
    """The index a plan reads, from PostgreSQL's or SQLite's EXPLAIN, else what it does."""
    found = re.findall(
        r"(?:USING (?:COVERING )?INDEX|Index(?: Only)? Scan(?: Backward)? using) (\w+)", plan
    )
    if found:
        return ", ".join(dict.fromkeys(found))
    return "no index: " + " / ".join(line.strip() for line in plan.splitlines()[:2])


def _run(args: argparse.Namespace, var: str, url: str) -> None:
    os.environ["SMMPANEL_VAR"] = var
    os.environ["DJANGO_SETTINGS_MODULE"] = "smmpanel.settings"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.pop("DEBUG", None)
    os.environ.pop("DATABASE_URL", None)
    if url:
        os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from smmpanel.accounts.models import Customer
    from smmpanel.accounts.services import customer_create
    from smmpanel.catalog.models import Category, Service
    from smmpanel.orders import selectors
    from smmpanel.orders.models import Order

    call_command("migrate", "--noinput", verbosity=0)
    setup_test_environment()  # the test client's response.context and no e-mail sending
    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    n = args.pages_orders
    print(
        f"Orders pages: Django's test client through the whole stack (DEBUG off), {engine}, "
        f"a customer with {n:,} orders against one with {args.pages_small}, "
        f"median of {args.pages_rounds} requests",
        flush=True,
    )
    category = Category.objects.create(name="Bench")
    service = Service.objects.create(
        name="Bench Followers", category=category, type="Default", rate=Decimal("1"),
        min=10, max=100000, refill=True, cancel=True, dripfeed=True,
    )  # fmt: skip

    def customer_with(name: str, count: int) -> Customer:
        customer, _ = customer_create(username=name, balance=Decimal("0"))
        template = Order(
            customer=customer, service=service, type="Default", status="Pending",
            quantity=100, rate=Decimal("0"), charged_quantity=100, charge=Decimal("0"),
            remains=100,
        )  # fmt: skip
        _insert_series(template, count, link=f"https://bench.example/{name}/", provider_order=1)
        _spread(customer.pk)
        return customer

    start = time.monotonic()
    small = customer_with("small", args.pages_small)
    # Other customers' orders around the big one's, as a panel has them: the planner then
    # weighs the customer indexes as it would in production (alone, a customer owning
    # every row is read as fast along the primary key).
    others = max(0, args.pages_others // 1000)
    for i in range(others // 2):
        customer_with(f"other{i}", 1000)
    big = customer_with("big", n)
    for i in range(others // 2, others):
        customer_with(f"other{i}", 1000)
    if engine == "PostgreSQL":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE orders_order")
    total = n + args.pages_small + others * 1000
    print(f"  ({total:,} orders inserted in {time.monotonic() - start:.1f}s)")

    ids = list(
        Order.objects.filter(customer=big, parent__isnull=True)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    deep = ids[int(len(ids) * 0.9)]
    completed = list(
        Order.objects.filter(customer=big, status="Completed", parent__isnull=True)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    deep_completed = completed[int(len(completed) * 0.9)]

    def client_of(customer: Customer) -> Client:
        client = Client()
        client.force_login(customer.user)
        return client

    baseline_client, big_client = client_of(small), client_of(big)

    def page(client: Client, path: str) -> Callable[[], int]:
        def get() -> int:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return len(response.content)

        return get

    cases: list[tuple[str, Client, str]] = [
        (f"baseline: /orders, {args.pages_small} orders", baseline_client, "/orders"),
        ("/orders, first page", big_client, "/orders"),
        ("/orders, keyset page 90% down", big_client, f"/orders?before={deep}"),
        ("/orders?status=Completed", big_client, "/orders?status=Completed"),
        ("Completed, 90% down", big_client, f"/orders?status=Completed&before={deep_completed}"),
        ("/orders?after=<90% down>", big_client, f"/orders?after={deep}"),
        ("/orders?q=<an id>", big_client, f"/orders?q={deep}"),
        ("/orders/dripfeeds (none)", big_client, "/orders/dripfeeds"),
        ("/orders/subscriptions (none)", big_client, "/orders/subscriptions"),
        ("/orders/refills (none)", big_client, "/orders/refills"),
        (f"/orders/{deep}", big_client, f"/orders/{deep}"),
    ]
    base_ms = 0.0
    for label, client, path in cases:
        queries = _Counter()
        # Counted as the driver runs them (the test client's request signals reset Django's
        # own query log mid-request).
        with connection.execute_wrapper(queries):
            page(client, path)()
        ms = _median_ms(page(client, path), args.pages_rounds)
        base_ms = base_ms or ms
        print(
            f"  {label:<34} {ms:7.2f} ms   {ms / base_ms:5.2f}x baseline   "
            f"{len(queries):2d} queries",
            flush=True,
        )

    # The rows query of the deep page, by keyset and by OFFSET, and the plans of each list.
    rows = selectors.customer_orders(big)

    def keyset() -> int:
        return len(list(rows.filter(pk__lt=deep).order_by("-id")[: PAGE + 1]))

    def offset() -> int:
        at = ids.index(deep) + 1
        return len(list(rows.order_by("-id")[at : at + PAGE + 1]))

    assert [o.pk for o in rows.filter(pk__lt=deep).order_by("-id")[:PAGE]] == [
        o.pk for o in rows.order_by("-id")[ids.index(deep) + 1 : ids.index(deep) + 1 + PAGE]
    ]
    key_ms = _median_ms(keyset, args.pages_rounds)
    off_ms = _median_ms(offset, args.pages_rounds)
    print(
        f"  the deep page's rows alone: keyset {key_ms:.2f} ms, OFFSET {off_ms:.2f} ms "
        f"({off_ms / key_ms:.1f}x keyset)"
    )
    plans = {
        "orders": rows.order_by("-id")[:PAGE],
        "orders, 90% down": rows.filter(pk__lt=deep).order_by("-id")[:PAGE],
        "one status": selectors.customer_orders(big, status="Completed").order_by("-id")[:PAGE],
        "one status, 90% down": selectors.customer_orders(big, status="Completed")
        .filter(pk__lt=deep_completed)
        .order_by("-id")[:PAGE],
        "drip-feeds": selectors.customer_dripfeeds(big).order_by("-id")[:PAGE],
        "subscriptions": selectors.customer_subscriptions(big).order_by("-id")[:PAGE],
        "refills": selectors.customer_refills(big).order_by("-id")[:PAGE],
    }
    for name, query in plans.items():
        print(f"  plan, {name}: {_index_used(query.explain())}")


def _spread(customer_id: int) -> None:
    """The customer's orders take the six statuses in turn (by id), as placed orders with no
    provider id (the bulk insert numbered them)."""
    from django.db import connection

    cases = " ".join(f"WHEN {i} THEN %s" for i in range(len(STATUSES)))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE orders_order SET provider_order_id = NULL, "
            f"status = CASE id %% {len(STATUSES)} {cases} END WHERE customer_id = %s",
            [*STATUSES, customer_id],
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.orders_pages", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
