"""Take the README's screenshots of a freshly seeded demo panel.

    .venv/bin/pip install playwright          # not a project dependency; the driver only
    apt-get install chromium                  # the system browser, used as /usr/bin/chromium
    .venv/bin/python scripts/screenshots.py   # writes docs/screenshots/*.png

Everything runs against a throwaway SQLite database in a temporary SMMPANEL_VAR: the demo is
seeded and `smmpanel up` runs the web server, the fulfilment worker and the simulated
provider, as `make run` does. A handful of orders are placed through API v2 and the worker
moves them along by itself; the provider is made to answer two `add`s with a 502 so those
two are held for the operator, and one running order is canceled. Then headless Chromium
signs into the admin and photographs the order list, one forwarded order with its provider
fields and history, the provider list, and the front page. The `up` started here (and so
its server, worker and simulator) is stopped at the end.
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
from playwright.sync_api import Page, sync_playwright

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
PROVIDERS_VIEWPORT = {"width": 1280, "height": 480}
MARGIN = 16
#: How long the worker gets to move the orders along before the pictures.
SETTLE_SECONDS = 12
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


def free_port(preferred: int) -> int:
    """The preferred port when it is free (so the pictures show :8000), else any free one."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            # As the servers do: a port left in TIME_WAIT by the last run is still free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
    raise RuntimeError(f"nothing answered at {url}")


def api(url: str, key: str, **params: Any) -> Any:
    reply = httpx.post(url, data={"key": key, **params}, timeout=10).json()
    if isinstance(reply, dict) and "error" in reply:
        raise RuntimeError(f"API {params.get('action')}: {reply['error']}")
    return reply


class Sim:
    """The simulated provider's side door (/__sim/stats and /__sim/control)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/__sim"

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base}/stats", timeout=5).json())

    def control(self, **settings: Any) -> None:
        httpx.post(f"{self.base}/control", json=settings, timeout=5).raise_for_status()

    def adds(self) -> int:
        """How many `add`s the simulator has been asked for, faulty ones included."""
        return int(self.stats()["requests"].get("add", 0))

    def wait_adds(self, count: int, timeout: float = 30.0) -> None:
        """Until the worker has sent `count` orders upstream (whatever the answer)."""
        deadline = time.monotonic() + timeout
        while self.adds() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker sent {self.adds()} of {count} orders upstream")
            time.sleep(0.3)


def order_params(service: dict[str, Any], link: str) -> dict[str, Any]:
    """Parameters for an `add` of this service (its type's required ones)."""
    lo = int(service["min"])
    match service["type"]:
        case "Default":
            return {"link": link, "quantity": max(lo, 1000)}
        case "Package":
            return {"link": link}
        case "Custom Comments" | "Custom Comments Package":
            return {"link": link, "comments": COMMENTS}
        case "Mentions Hashtag":
            return {"link": link, "quantity": lo, "hashtag": "travelgram"}
        case "Comment Likes":
            return {"link": link, "quantity": max(lo, 500), "username": "travel.daily"}
        case "Comment Replies":
            return {"link": link, "username": "travel.daily", "comments": COMMENTS}
        case "Poll":
            return {"link": "https://t.me/demo_channel/42", "quantity": lo, "answer_number": 2}
        case "Invites from Groups":
            return {
                "link": "https://t.me/demo_channel",
                "quantity": lo,
                "groups": "https://t.me/group_one\nhttps://t.me/group_two",
            }
    raise ValueError(f"no parameters for {service['type']}")


#: Orders that run to the end by themselves, one per type.
FLOWING = ("Default", "Package", "Custom Comments", "Comment Likes", "Poll", "Mentions Hashtag")
#: Orders placed while the provider answers `add` with a 502: held for the operator.
HELD = ("Invites from Groups", "Comment Replies")


def place_orders(url: str, key: str, sim: Sim) -> dict[str, int]:
    """The demo's orders, by label -> order id; returns once the worker has sent them all."""
    services = api(url, key, action="services")
    by_type: dict[str, dict[str, Any]] = {}
    for service in services:
        by_type.setdefault(service["type"], service)
    placed: dict[str, int] = {}

    def add(label: str, service: dict[str, Any], **params: Any) -> None:
        reply = api(url, key, action="add", service=service["service"], **params)
        placed[label] = int(reply["order"])

    def link(n: int) -> str:
        return f"https://instagram.com/p/Cx{n:04d}"

    for n, kind in enumerate(FLOWING, 1):
        add(kind, by_type[kind], **order_params(by_type[kind], link(n)))
    # A big order of a cancelable Default service: still running when its cancel is asked for.
    big = next(
        (s for s in services if s["type"] == "Default" and s["cancel"] and s != by_type["Default"]),
        by_type["Default"],
    )
    add("Default (to cancel)", big, link=link(20), quantity=min(int(big["max"]), 20_000))
    drip = next(s for s in services if s["type"] == "Default" and s["dripfeed"])
    add("Default (drip-feed)", drip, link=link(21), quantity=100, runs=3, interval=1)
    # YouTube Views: its provider takes no drip-feed, so the panel sends the runs itself.
    views = next(s for s in services if s["name"] == "YouTube Views")
    add("Drip-feed run by the panel", views, link="https://youtube.com/watch?v=demo",
        quantity=1000, runs=4, interval=1)  # fmt: skip
    # Everything so far must be upstream before the faults start, or it would be held too.
    sim.wait_adds(len(placed))

    sim.control(faults={"error5xx": 1.0, "actions": ["add"]})
    try:
        for n, kind in enumerate(HELD, 30):
            add(kind, by_type[kind], **order_params(by_type[kind], link(n)))
        sim.wait_adds(len(placed))
    finally:
        sim.control(faults=None)
    return placed


def featured_order(url: str, key: str, placed: dict[str, int]) -> int:
    """A completed order the worker forwarded, the Default one if it can be."""
    ids = ",".join(str(placed[label]) for label in FLOWING)
    statuses = api(url, key, action="status", orders=ids)
    for label in FLOWING:
        if statuses.get(str(placed[label]), {}).get("status") == "Completed":
            return placed[label]
    raise RuntimeError(f"no order completed: {statuses}")


def fit_table(page: Page, viewport: dict[str, int]) -> None:
    """Widen the window until the admin's result table needs no scrolling sideways."""
    hidden = page.evaluate(
        """() => {
            const box = document.querySelector("#changelist .results");
            return box.scrollWidth - box.clientWidth;
        }"""
    )
    if hidden > 0:
        width = viewport["width"] + hidden + MARGIN
        page.set_viewport_size({"width": width, "height": viewport["height"]})
    page.evaluate("() => window.scrollTo(0, 0)")


def shoot_section(
    page: Page, url: str, first: str, last_inline: str, path: Path, *, only: str = ""
) -> None:
    """One order's page, from the fieldset titled `first` (the first one when empty) down to
    the end of the inline table titled `last_inline`, in a window just tall enough. With
    `only`, the other titled sections are hidden and that one is unfolded."""
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    page.goto(url)
    if only:
        page.evaluate(
            """(only) => {
                for (const h of document.querySelectorAll("fieldset h2")) {
                    const set = h.closest("fieldset");
                    if (set.closest(".inline-group")) continue;  // the tables stay
                    if (h.textContent.trim() !== only) set.style.display = "none";
                    else set.querySelector("details")?.setAttribute("open", "");
                }
            }""",
            only,
        )
    top, bottom = page.evaluate(
        """([first, last]) => {
            // No title: the page's first fieldset (the order itself).
            const start = first
                ? [...document.querySelectorAll("fieldset h2")]
                    .find((h) => h.textContent.trim() === first).closest("fieldset")
                : document.querySelector("fieldset");
            const end = [...document.querySelectorAll(".inline-group")]
                .find((g) => g.querySelector("h2").textContent.trim().startsWith(last));
            return [start.getBoundingClientRect().top + window.scrollY,
                    end.getBoundingClientRect().bottom + window.scrollY];
        }""",
        [first, last_inline],
    )
    height = min(int(bottom - top) + 2 * MARGIN, 1600)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.evaluate(f"() => window.scrollTo(0, {int(top) - MARGIN})")
    page.screenshot(path=path, full_page=False)


def shoot(base: str, password: str, featured: int, drip: int) -> None:
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

        # The order list has twelve columns: it needs a wide window to show them all.
        page.set_viewport_size(WIDE_VIEWPORT)  # type: ignore[arg-type]
        page.goto(f"{base}/admin/orders/order/")
        fit_table(page, WIDE_VIEWPORT)
        page.screenshot(path=OUT / "admin-orders.png", full_page=False)

        page.set_viewport_size(PROVIDERS_VIEWPORT)  # type: ignore[arg-type]
        page.goto(f"{base}/admin/providers/provider/")
        # The worker asked for the balance when it started, before the orders: ask again.
        page.check("input.action-select")
        page.select_option("select[name=action]", "check_balance")
        page.click("button[name=index]")
        page.wait_for_selector("ul.messagelist")
        fit_table(page, PROVIDERS_VIEWPORT)
        page.screenshot(path=OUT / "admin-providers.png", full_page=False)

        # One order: from its Provider section down to the end of its event history.
        order_url = f"{base}/admin/orders/order/{featured}/change/"
        shoot_section(page, order_url, "Provider", "Order events", OUT / "admin-order.png")
        # A drip-feed the panel runs: the parent and the child order of each run so far.
        drip_url = f"{base}/admin/orders/order/{drip}/change/"
        shoot_section(
            page, drip_url, "", "Runs and post orders", OUT / "admin-dripfeed.png", only="Drip-feed"
        )
        browser.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop `smmpanel up` (it stops its server, worker and simulator in turn)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=25)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="smmpanel-shots-") as tmp:
        os.environ["SMMPANEL_VAR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        port = free_port(8000)
        sim_port = free_port(9100)
        base = f"http://127.0.0.1:{port}"

        smm("migrate", "--noinput", "-v0")
        smm("collectstatic", "--noinput", "-v0")
        smm("demo-seed", "--port", str(port), "--simulator-port", str(sim_port))

        log_path = Path(tmp) / "up.log"
        argv = [str(SMM), "up", "--port", str(port), "--simulator"]
        argv += ["--simulator-port", str(sim_port), "--poll-seconds", "1"]
        with log_path.open("wb") as log:
            up = subprocess.Popen(  # noqa: S603 - fixed argv
                argv,
                cwd=ROOT,
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(f"{base}/")
            wait_for(f"http://127.0.0.1:{sim_port}/__sim/stats")
            key = (Path(tmp) / "demo-api-key").read_text().strip()
            password = (Path(tmp) / "demo-admin-password").read_text().strip()
            url = f"{base}/api/v2"

            placed = place_orders(url, key, Sim(sim_port))
            time.sleep(SETTLE_SECONDS)  # the worker follows them to In progress and Completed
            api(url, key, action="cancel", orders=str(placed["Default (to cancel)"]))
            time.sleep(3)  # the worker passes the cancel on

            shoot(
                base,
                password,
                featured=featured_order(url, key, placed),
                drip=placed["Drip-feed run by the panel"],
            )
        except BaseException:
            stop(up)
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop(up)
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
