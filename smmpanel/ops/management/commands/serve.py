"""Serve the panel with gunicorn, in the foreground, until stopped."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Serve the web panel and API v2 with gunicorn (a multi-process WSGI server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))

    def handle(self, *args: Any, **opts: Any) -> None:
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
            "gunicorn"
        )
        if gunicorn is None:
            raise CommandError("gunicorn is not installed")
        argv = [
            gunicorn,
            "smmpanel.wsgi:application",
            f"--bind={opts['host']}:{opts['port']}",
            f"--workers={opts['workers']}",
            f"--threads={opts['threads']}",
            "--access-logfile=-",
            "--graceful-timeout=10",
        ]
        self.stdout.write(f"Serving on http://{opts['host']}:{opts['port']}/ (Ctrl-C stops)")
        self.stdout.flush()
        os.execv(gunicorn, argv)  # noqa: S606 - a fixed argv, no shell involved
