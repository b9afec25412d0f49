"""Secrets at rest (providers' API keys), encrypted with Fernet.

The key comes from the environment: SMMPANEL_FERNET_KEYS, comma-separated, newest first
(older keys still decrypt, so keys can be rotated). Without it — the demo — one is
generated once into var/fernet_key.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    raw = os.environ.get("SMMPANEL_FERNET_KEYS", "").strip()
    if not raw:
        path = Path(settings.VAR_DIR) / "fernet_key"
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(Fernet.generate_key().decode())
        raw = path.read_text().strip()
    return MultiFernet([Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong SMMPANEL_FERNET_KEYS?") from exc
