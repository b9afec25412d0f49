"""Take the README's screenshots of a freshly seeded demo panel.

    .venv/bin/pip install playwright          # not a project dependency; the driver only
    apt-get install chromium                  # the system browser, used as /usr/bin/chromium
    .venv/bin/python scripts/screenshots.py   # writes docs/screenshots/*.png

Everything runs against a throwaway SQLite database in a temporary SMMPANEL_VAR: the demo is
seeded, a handful of orders are placed through API v2 and moved along with `order-set`, then
headless Chromium signs into the admin and photographs the order list, one order with its
history, and the front page. The server started here is stopped at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SMM = ROOT / ".venv" / "bin" / "smmpanel"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
WIDE_VIEWPORT = {"width": 1920, "height": 720}
COMMENTS = "\n".join(
    [
        "Love this shot!",
        "Where was this taken?",
        "Amazing colours",
        "So good",
        "Need this in my life",
        "Great post",
        "Wow",
        "Stunning",
        "Following for more",
        "Beautiful light",
    ]
)


def free_port(preferred: int = 8000) -> int:
    """The preferred port when it is free (so the pictures show :8000), else any free one."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")


def smm(*args: str) -> None:
    subprocess.run([str(SMM), *args], cwd=ROOT, check=True)  # noqa: S603 - fixed argv


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer at {url}")


def api(url: str, key: str, **params: Any) -> Any:
    reply = httpx.post(url, data={"key": key, **params}, timeout=10).json()
    if isinstance(reply, dict) and "error" in reply:
        raise RuntimeError(f"API {params.get('action')}: {reply['error']}")
    return reply


def order_params(service: dict[str, Any]) -> dict[str, Any] | None:
    """Parameters for an `add` of this service, or None for types the pictures skip."""
    lo = int(service["min"])
    link = "https://instagram.com/p/Cx" + str(service["service"]).zfill(4)
    match service["type"]:
        case "Default":
            return {"link": link, "quantity": max(lo, 1000)}
        case "Package":
            return {"link": link}
        case "Custom Comments":
            return {"link": link, "comments": COMMENTS}
        case "Comment Likes":
            return {"link": link, "quantity": max(lo, 500), "username": "travel.daily"}
        case "Poll":
            return {"link": "https://twitter.com/demo/status/1", "quantity": lo, "answer_number": 2}
        case "Invites from Groups":
            return {
                "link": "https://t.me/demo_channel",
                "quantity": lo,
                "groups": "https://t.me/group_one\nhttps://t.me/group_two",
            }
    return None


def place_orders(url: str, key: str) -> dict[str, int]:
    """One order of each type the pictures use, plus a second Default one; type -> id."""
    placed: dict[str, int] = {}
    services = api(url, key, action="services")
    for service in services:
        params = order_params(service)
        if params is not None and service["type"] not in placed:
            reply = api(url, key, action="add", service=service["service"], **params)
            placed[service["type"]] = int(reply["order"])
    default = next(s for s in services if s["type"] == "Default")
    params = order_params(default) or {}
    reply = api(
        url, key, action="add", service=default["service"], link=params["link"] + "b", quantity=2500
    )
    placed["Default (second)"] = int(reply["order"])
    return placed


def shoot(base: str, password: str, featured: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]

        # The front page is short: a shorter window leaves less blank below it.
        page.set_viewport_size({"width": 1280, "height": 600})
        page.goto(f"{base}/")
        page.screenshot(path=OUT / "home.png", full_page=False)

        page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        # Fold the admin's app menu away (the admin remembers it) to give the tables room.
        page.goto(f"{base}/admin/orders/order/")
        page.click("#toggle-nav-sidebar")

        # The order list has eleven columns: it needs a wide window to show them all.
        page.set_viewport_size(WIDE_VIEWPORT)  # type: ignore[arg-type]
        page.goto(f"{base}/admin/orders/order/")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=OUT / "admin-orders.png", full_page=False)

        # One order: scrolled so its last fields and its whole event history show.
        page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
        page.goto(f"{base}/admin/orders/order/{featured}/change/")
        page.evaluate(
            """() => {
                const box = document.querySelector(".inline-group").getBoundingClientRect();
                window.scrollTo(0, window.scrollY + box.bottom - window.innerHeight + 24);
            }"""
        )
        page.screenshot(path=OUT / "admin-order.png", full_page=False)
        browser.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="smmpanel-shots-") as tmp:
        os.environ["SMMPANEL_VAR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        port = free_port()
        base = f"http://127.0.0.1:{port}"

        smm("migrate", "--noinput", "-v0")
        smm("collectstatic", "--noinput", "-v0")
        smm("demo-seed", "--port", str(port))

        server = subprocess.Popen(  # noqa: S603 - fixed argv
            [str(SMM), "serve", "--port", str(port)],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(f"{base}/")
            key = (Path(tmp) / "demo-api-key").read_text().strip()
            password = (Path(tmp) / "demo-admin-password").read_text().strip()

            orders = place_orders(f"{base}/api/v2", key)
            # Move some along: one partly delivered, one finished, two under way.
            partial, done = orders["Default"], orders["Package"]
            for order in (partial, done, orders["Comment Likes"], orders["Default (second)"]):
                smm("order-set", str(order), "start", "--start-count", "100")
            smm("order-set", str(done), "complete")
            smm("order-set", str(partial), "partial", "--remains", "50")

            shoot(base, password, featured=partial)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
