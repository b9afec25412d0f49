"""`smmpanel up`: everything the panel needs, in the foreground — the web server, the
fulfilment worker and (for the demo) the provider simulator — as child processes.

Ctrl-C or SIGTERM stops them all; if one of them dies, the others are stopped too and the
exit status says so, so a process manager (systemd, a container) can restart the lot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the web server, the worker and (with --simulator) the demo provider together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=1, help="Fulfilment worker processes")
        parser.add_argument(
            "--simulator",
            action="store_true",
            help="Also run the demo provider (smmpanel simulator) on --simulator-port",
        )
        parser.add_argument(
            "--simulator-port", type=int, default=int(os.environ.get("SIM_PORT", "9100"))
        )
        parser.add_argument("--poll-seconds", type=float, default=2.0)

    def handle(self, *args: Any, **opts: Any) -> None:
        smmpanel = str(Path(sys.executable).with_name("smmpanel"))
        commands: list[tuple[str, list[str]]] = []
        if opts["simulator"]:
            simulator = [smmpanel, "simulator", "--port", str(opts["simulator_port"])]
            # Fast enough that a demo order goes from Pending to Completed in seconds.
            simulator += ["--speed", "200", "--start-delay", "2", "--partial-rate", "0.1"]
            commands.append(("simulator", simulator))
        commands.append(
            ("web", [smmpanel, "serve", "--host", opts["host"], "--port", str(opts["port"])])
        )
        for n in range(opts["workers"]):
            commands.append(
                (
                    f"worker-{n + 1}",
                    [smmpanel, "worker", "--poll-seconds", str(opts["poll_seconds"])],
                )
            )

        children: dict[str, subprocess.Popen[bytes]] = {}
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, argv in commands:
                # Each child gets its own process group: Ctrl-C reaches us, and we stop them.
                children[name] = subprocess.Popen(argv, start_new_session=True)  # noqa: S603
                self.stdout.write(f"started {name} (pid {children[name].pid})")
            self.stdout.flush()
            failed = ""
            while not stopping and not failed:
                time.sleep(0.5)
                failed = next((n for n, p in children.items() if p.poll() is not None), "")
            if failed:
                self.stderr.write(f"{failed} exited with {children[failed].returncode}; stopping")
        finally:
            for child in children.values():
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
        if failed:
            sys.exit(1)
