"""`smmpanel worker`: forward, follow, cancel and refill orders upstream until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from smmpanel.fulfillment.worker import Worker, WorkerConfig


class Command(BaseCommand):
    help = "Run the fulfilment worker (several may run at once, on one database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit")
        parser.add_argument("--poll-seconds", type=float, help="How often to ask for statuses")
        parser.add_argument("--idle-seconds", type=float, help="Sleep when there is nothing to do")
        parser.add_argument("--name", help="This worker's name in leases and events")

    def handle(self, *args: Any, **opts: Any) -> None:
        logging.getLogger("smmpanel").setLevel(logging.INFO)
        config = WorkerConfig()
        if opts["poll_seconds"] is not None:
            config.poll_interval = timedelta(seconds=opts["poll_seconds"])
        if opts["idle_seconds"] is not None:
            config.idle_sleep = opts["idle_seconds"]
        worker = Worker(name=opts["name"], config=config)
        if opts["once"]:
            try:
                self.stdout.write(f"handled {worker.run_once()}")
            finally:
                worker.close()
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"worker {worker.name} running (Ctrl-C stops)")
        self.stdout.flush()
        worker.run_forever(stop)
