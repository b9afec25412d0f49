"""Secrets kept in files under var/ for the demo (a generated SECRET_KEY, the Fernet key,
the demo's admin password and API key): readable by their owner only.

No Django here: settings.py uses it before Django is configured.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")


def read_secret(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


def read_or_create_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret in `path`, made with `make()` the first time. Concurrent first starts
    race, so the file is created exclusively and the losers read what the winner wrote."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
    return read_secret(path)
