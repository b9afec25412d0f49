"""`make run` end to end: migrate, seed, and `smmpanel up` with the web server, the worker
and the simulator; an order placed over HTTP moves to Completed by itself."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import httpx

from tests.conftest import panel_processes
from tests.processes import SMMPANEL, free_port, panel_env, smmpanel_step

pytestmark = panel_processes


def test_the_demo_serves_the_api_and_fulfils_orders(tmp_path: Path):
    env = panel_env(tmp_path)
    port, sim_port = free_port(), free_port()

    def step(*args: str) -> str:
        return smmpanel_step(env, *args)

    step("migrate", "--noinput", "-v0")
    step("collectstatic", "--noinput", "-v0")
    printed = step("demo-seed", "--port", str(port), "--simulator-port", str(sim_port))
    key = (tmp_path / "demo-api-key").read_text().strip()
    assert key in printed and "admin" in printed

    log = (tmp_path / "up.log").open("wb")
    everything = subprocess.Popen(
        [SMMPANEL, "up", "--port", str(port), "--simulator", "--simulator-port", str(sim_port),
         "--poll-seconds", "0.5"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
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
            assert {s["type"] for s in services} >= {"Default", "Package", "Subscriptions", "Poll"}
            default = next(s for s in services if s["type"] == "Default")
            placed = http.post(
                "/api/v2/",
                data={"key": key, "action": "add", "service": default["service"],
                      "link": "https://instagram.com/demo", "quantity": "100"},
            ).json()  # fmt: skip
            assert isinstance(placed["order"], int), placed
            deadline = time.monotonic() + 40
            status: dict[str, str] = {}
            while status.get("status") not in ("Completed", "Partial"):
                assert time.monotonic() < deadline, f"the order did not finish: {status}"
                time.sleep(0.5)
                status = http.get(
                    "/api/v2", params={"key": key, "action": "status", "order": placed["order"]}
                ).json()
            assert int(status["start_count"]) > 0
            balance = http.post("/api/v2", json={"key": key, "action": "balance"}).json()
            assert balance["currency"] == "USD"
            assert Decimal(balance["balance"]) < Decimal("100")
            login = http.get("/admin/login/")
            assert login.status_code == 200 and b"password" in login.content
            assert http.get("/static/admin/css/base.css").status_code == 200
    finally:
        os.killpg(everything.pid, signal.SIGTERM)
        everything.wait(timeout=30)
        log.close()
    assert everything.returncode == 0, (tmp_path / "up.log").read_text()[-2000:]
