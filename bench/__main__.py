"""`make bench`: API v2 throughput over loopback against a real gunicorn server.

Reports requests per second for each hot action and its ratio to `balance` (the cheapest
authenticated call), all measured in this one run so the ratios compare like with like.
Not a test: nothing here asserts a speed.

    python -m bench [--only api|fulfillment|lifecycles|pages] [--seconds 3] [--clients 8]
                    [--database-url postgres://...]

Then the fulfilment bench (bench/fulfillment.py, its options too: --orders, --sync-orders,
...), then the lifecycles bench (bench/lifecycles.py: drip-feed and subscriptions next to
plain forwarding, on SQLite always; --lifecycle-orders, --lifecycle-subscriptions), then
the orders pages bench (bench/orders_pages.py: a customer's orders page with 100,000 orders
next to one with 60; --pages-orders, --pages-rounds). With
--database-url, the API bench uses that database as it is given; the fulfilment
bench creates and drops its own database (smmpanel_bench_<pid>) on that server.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench import fulfillment, lifecycles, orders_pages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _measure(seconds: float, clients: int, make: Callable[[httpx.Client, int], None]) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * clients

    def run(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            n = 0
            while time.monotonic() < stop:
                make(http, i * 10_000_000 + n)
                n += 1
            counts[i] = n

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("api", "fulfillment", "lifecycles", "pages"))
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    fulfillment.add_arguments(parser)
    lifecycles.add_arguments(parser)
    orders_pages.add_arguments(parser)
    args = parser.parse_args()
    if args.only in (None, "api"):
        api(args)
    if args.only in (None, "fulfillment"):
        fulfillment.run(args)
    if args.only in (None, "lifecycles"):
        lifecycles.run(args)
    if args.only in (None, "pages"):
        orders_pages.run(args)


def api(args: argparse.Namespace) -> None:
    smmpanel = str(Path(sys.executable).with_name("smmpanel"))
    var = tempfile.mkdtemp(prefix="smmpanel-bench-")
    # The benchmark is one key hammering from one address: exactly what the limits stop.
    env = dict(
        os.environ,
        SMMPANEL_VAR=var,
        API_RATE_PER_KEY="0",
        API_RATE_PER_ADDRESS="0",
        API_RATE_BAD_KEYS="0",
    )
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    port = _free_port()
    for step in (["migrate", "--noinput", "-v0"], ["demo-seed", "--balance", "9999999"]):
        subprocess.run([smmpanel, *step], env=env, check=True, capture_output=True)
    key = Path(var, "demo-api-key").read_text().strip()
    server = subprocess.Popen(
        [smmpanel, "serve", "--port", str(port), "--workers", "2", "--threads", "4"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api/v2"
    try:
        for _ in range(150):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(timeout=30) as http:
            services = http.post(url, data={"key": key, "action": "services"}).json()
            default = next(s for s in services if s["type"] == "Default")
            ids = [
                http.post(
                    url,
                    data={"key": key, "action": "add", "service": default["service"],
                          "link": f"https://bench.example/seed/{i}", "quantity": default["min"]},
                ).json()["order"]
                for i in range(100)
            ]  # fmt: skip
        orders = ",".join(str(i) for i in ids)
        seq = itertools.count()

        def post(data: dict[str, str]) -> Callable[[httpx.Client, int], None]:
            def call(http: httpx.Client, n: int) -> None:
                reply = http.post(url, data={"key": key, **data}).json()
                assert "error" not in reply, reply

            return call

        def add(http: httpx.Client, n: int) -> None:
            reply = http.post(
                url,
                data={"key": key, "action": "add", "service": default["service"],
                      "link": f"https://bench.example/{next(seq)}", "quantity": default["min"]},
            ).json()  # fmt: skip
            assert "order" in reply, reply

        cases = {
            "balance": post({"action": "balance"}),
            "services": post({"action": "services"}),
            "status (1 id)": post({"action": "status", "order": str(ids[0])}),
            "status (100 ids)": post({"action": "status", "orders": orders}),
            "add": add,
        }
        engine = "PostgreSQL" if args.database_url else "SQLite"
        print(f"API v2 over loopback, gunicorn 2x4, {args.clients} clients, {engine}")
        results = {name: _measure(args.seconds, args.clients, fn) for name, fn in cases.items()}
        base = results["balance"]
        for name, rate in results.items():
            print(f"  {name:<18} {rate:8.0f} req/s   {rate / base:5.2f}x balance")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
