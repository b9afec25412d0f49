"""Run the provider simulator in the foreground: an upstream API v2 panel for the demo."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.simulator.server import FaultRates, Simulator


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError(text)
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Run a provider simulator: an upstream panel that speaks API v2 on /api/v2, fulfils "
        "orders over time and injects faults. Stats: GET /__sim/stats; settings at runtime: "
        "POST /__sim/control (JSON). Runs until Ctrl-C or SIGTERM."
    )

    # The simulator is a separate peer: it needs neither the database nor a healthy project.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=9100, help="0 picks a free port")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--key", default="sim-key", help="the API key clients must send")
        parser.add_argument(
            "--speed", type=_positive, default=100.0, help="units delivered per second"
        )
        parser.add_argument(
            "--start-delay", type=_seconds, default=2.0, help="seconds an order stays Pending"
        )
        parser.add_argument(
            "--partial-rate", type=_rate, default=0.0, help="chance an order ends Partial"
        )
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--minute",
            type=_positive,
            default=60.0,
            help="seconds in a drip-feed / subscription 'minute' (make it small for a demo)",
        )
        parser.add_argument(
            "--post-interval",
            type=_positive,
            default=60.0,
            help="seconds between new posts of a subscription's watched account",
        )
        parser.add_argument("--balance", default="10000", help="our account's balance there")
        for kind, flag in (
            ("timeout", "--fail-timeout"),
            ("drop", "--fail-drop"),
            ("error5xx", "--fail-5xx"),
            ("html", "--fail-html"),
            ("malformed", "--fail-malformed"),
            ("error", "--fail-error"),
        ):
            parser.add_argument(
                flag, dest=f"fail_{kind}", type=_rate, default=0.0, help=f"{kind} fault rate"
            )
        parser.add_argument(
            "--hang-seconds",
            type=_seconds,
            default=10.0,
            help="how long a timeout fault holds the reply",
        )
        parser.add_argument("--verbose", action="store_true", help="log every request")

    def handle(self, *args: Any, **opts: Any) -> None:
        faults = FaultRates(
            timeout=opts["fail_timeout"],
            drop=opts["fail_drop"],
            error5xx=opts["fail_error5xx"],
            html=opts["fail_html"],
            malformed=opts["fail_malformed"],
            error=opts["fail_error"],
        )
        try:
            sim = Simulator(
                opts["key"],
                speed=opts["speed"],
                start_delay=opts["start_delay"],
                seed=opts["seed"],
                faults=faults,
                partial_rate=opts["partial_rate"],
                hang_seconds=opts["hang_seconds"],
                minute=opts["minute"],
                post_interval=opts["post_interval"],
                balance=opts["balance"],
                log=(lambda line: print(line, file=sys.stderr, flush=True))
                if opts["verbose"]
                else None,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        stop = threading.Event()

        def on_signal(signum: int, frame: Any) -> None:
            stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            try:
                sim.start(opts["host"], opts["port"])
            except OSError as exc:
                where = f"{opts['host']}:{opts['port']}"
                raise CommandError(f"cannot listen on {where}: {exc}") from exc
            self.stdout.write(f"Provider simulator: {sim.url}")
            self.stdout.write(f"API key: {sim.key}")
            self.stdout.write(
                f"Stats: GET {sim.base_url}/__sim/stats  "
                f"Control: POST {sim.base_url}/__sim/control  (Ctrl-C stops)"
            )
            self.stdout.flush()
            while not stop.wait(0.2):
                pass
        finally:
            sim.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Simulator stopped.")
