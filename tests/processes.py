"""For tests that run the real `smmpanel` command in processes of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

#: The console script installed beside this interpreter.
SMMPANEL = str(Path(sys.executable).with_name("smmpanel"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def panel_env(var: Path) -> dict[str, str]:
    """The environment of a panel of its own: an SQLite database and secrets under `var`,
    whatever database and keys the suite itself runs with."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SMMPANEL_FERNET_KEYS")}
    env.update(SMMPANEL_VAR=str(var), DJANGO_SETTINGS_MODULE="smmpanel.settings")
    return env


def smmpanel_step(env: dict[str, str], *args: str) -> str:
    """Run `smmpanel <args>` to its end; what it printed, once it succeeded."""
    done = subprocess.run([SMMPANEL, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout
