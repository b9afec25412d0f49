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

from smmpanel.core.secret_files import read_or_create_secret


@cache
def _fernet() -> MultiFernet:
    raw = os.environ.get("SMMPANEL_FERNET_KEYS", "").strip()
    if not raw:
        raw = read_or_create_secret(
            Path(settings.VAR_DIR) / "fernet_key", lambda: Fernet.generate_key().decode()
        )
    return MultiFernet([Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong SMMPANEL_FERNET_KEYS?") from exc
