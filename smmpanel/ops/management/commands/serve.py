"""Serve the panel with gunicorn, in the foreground, until stopped."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from gunicorn.glogging import Logger as GunicornLogger

from smmpanel.core.redaction import RedactKeys

_REDACT_KEYS = RedactKeys()


class KeyRedactingLogger(GunicornLogger):  # type: ignore[misc]  # gunicorn ships no types
    """Gunicorn's logger, with API keys taken out of every line it writes: the access
    log's request line carries the query string, and its error log quotes bad requests."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.addFilter(_REDACT_KEYS)


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
            f"--logger-class={__name__}.KeyRedactingLogger",
            "--graceful-timeout=10",
        ]
        self.stdout.write(f"Serving on http://{opts['host']}:{opts['port']}/ (Ctrl-C stops)")
        self.stdout.flush()
        os.execv(gunicorn, argv)  # noqa: S606 - a fixed argv, no shell involved
