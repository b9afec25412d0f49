"""API keys never reach a log (issue 13, item 11): clients that use GET put the key in the
query string, and servers log the request line. The real servers run here, as in
production, and everything they print is read."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import SMMPANEL, free_port, panel_env, smmpanel_step


@dataclass
class Panel:
    env: dict[str, str]
    key: str
    var: Path


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> Panel:
    """A migrated SQLite panel of its own, with one customer and their key."""
    var = tmp_path_factory.mktemp("var")
    env = panel_env(var)
    smmpanel_step(env, "migrate", "--noinput", "-v0")
    key = smmpanel_step(env, "customer-create", "--username", "logged", "--balance", "10").strip()
    assert len(key) == 32
    return Panel(env, key, var)


@contextmanager
def running(panel: Panel, name: str, *args: str) -> Iterator[tuple[httpx.Client, Path]]:
    """`smmpanel <args>` serving on a free port; yields a client and the file of its output."""
    port = free_port()
    output = panel.var / f"{name}.log"
    with output.open("wb") as log:
        server = subprocess.Popen(
            [SMMPANEL, *args, f"127.0.0.1:{port}" if name == "runserver" else f"--port={port}"],
            env=panel.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            with httpx.Client(base_url=url, timeout=10) as http:
                while True:
                    try:
                        http.get("/api/v2")
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline, output.read_text()[-2000:]
                        time.sleep(0.2)
                yield http, output
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def use_the_key_in_urls(http: httpx.Client, key: str) -> None:
    """Every way a key rides in a URL that a client has been seen sending."""
    balance = {"balance": "10.00000", "currency": "USD"}
    assert http.get("/api/v2", params={"key": key, "action": "balance"}).json() == balance
    assert http.get(f"/api/v2/?action=balance&key={key}").json() == balance
    assert http.post(f"/api/v2?key={key}", data={"action": "balance"}).json() == balance
    # Django reads `k%65y` as `key`: so must the redaction.
    assert http.get(f"/api/v2?k%65y={key}&action=balance").json() == balance
    assert http.get(f"/api/v2?action=balance;key={key}&x=1&key={key}").status_code == 200
    http.get(f"/no-such-page?key={key}")  # a 404 is logged too
    http.get("/api/v2", params={"key": key + "-wrong", "action": "balance"})
    http.get("/", headers={"referer": f"http://example.com/?key={key}"})


def assert_no_key(output: Path, key: str) -> str:
    text = output.read_text()
    assert "/api/v2" in text, "nothing was logged: the test would prove nothing"
    assert key not in text, [line for line in text.splitlines() if key in line]
    assert key[:16] not in text and key[16:] not in text
    return text


def test_gunicorn_access_log_never_shows_a_key(panel: Panel):
    with running(panel, "serve", "serve", "--workers=1", "--threads=2") as (http, output):
        use_the_key_in_urls(http, panel.key)
        time.sleep(0.5)  # the access log is written after the reply
    text = assert_no_key(output, panel.key)
    assert "GET /api/v2?key=[redacted]&action=balance HTTP/1.1" in text
    assert "GET /api/v2/?action=balance&key=[redacted] HTTP/1.1" in text
    assert "POST /api/v2?key=[redacted] HTTP/1.1" in text
    assert "k%65y=[redacted]" in text


def test_djangos_own_server_log_never_shows_a_key(panel: Panel):
    with running(panel, "runserver", "runserver", "--noreload") as (http, output):
        use_the_key_in_urls(http, panel.key)
        time.sleep(0.5)
    text = assert_no_key(output, panel.key)
    assert "GET /api/v2?key=[redacted]&action=balance HTTP/1.1" in text
