"""`make run` end to end: migrate, seed and serve with gunicorn, then use it over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_serves_the_api_and_the_admin(tmp_path: Path):
    smmpanel = str(Path(sys.executable).with_name("smmpanel"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SMMPANEL_VAR=str(tmp_path), DJANGO_SETTINGS_MODULE="smmpanel.settings")
    port = _free_port()

    def step(*args: str) -> str:
        done = subprocess.run(
            [smmpanel, *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    step("migrate", "--noinput", "-v0")
    step("collectstatic", "--noinput", "-v0")
    printed = step("demo-seed", "--port", str(port))
    key = (tmp_path / "demo-api-key").read_text().strip()
    assert key in printed and "admin" in printed

    server = subprocess.Popen(
        [smmpanel, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=url, timeout=10, follow_redirects=False) as http:
            services = http.post("/api/v2", data={"key": key, "action": "services"}).json()
            assert len(services) == 14
            default = next(s for s in services if s["type"] == "Default")
            placed = http.post(
                "/api/v2/",
                data={
                    "key": key,
                    "action": "add",
                    "service": default["service"],
                    "link": "https://instagram.com/demo",
                    "quantity": "1000",
                },
            ).json()
            assert isinstance(placed["order"], int)
            status = http.get(
                "/api/v2", params={"key": key, "action": "status", "order": placed["order"]}
            ).json()
            assert status["status"] == "Pending" and status["charge"] == "0.90000"
            balance = http.post("/api/v2", json={"key": key, "action": "balance"}).json()
            assert balance == {"balance": "99.10000", "currency": "USD"}
            login = http.get("/admin/login/")
            assert login.status_code == 200 and b"password" in login.content
            assert http.get("/static/admin/css/base.css").status_code == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
