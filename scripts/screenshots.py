"""Take the README's screenshots of a freshly seeded demo panel: `make screenshots`.

    make screenshots                        # every page of PAGES below
    make screenshots PAGES="home admin-order"   # only these
    .venv/bin/python scripts/screenshots.py [NAME ...]   # the same, by hand

PAGES is the one list of pictures: a row per docs/screenshots/<name>.png, saying which path
to open, as whom (nobody, the demo's operator or its customer), in which window (1280x800
unless it says otherwise) and, where a page needs more than a plain shot of the window, how
to take it. A new page is a new row.

The browser is Debian's Chromium (/usr/bin/chromium, or SMMPANEL_CHROMIUM), driven by
Playwright; nothing is downloaded. Everything runs against a throwaway SQLite database in a
temporary SMMPANEL_VAR: the demo is seeded and `smmpanel up` runs the web server, the
fulfilment worker and the simulated provider, as `make run` does. A handful of orders are
placed through API v2 and the worker moves them along by itself; the provider is made to
answer two `add`s with a 502 so those two are held for the operator, and one running order
is canceled. People are logged in with a session made for them (`smmpanel shell`), so no
picture depends on a login form. The `up` started here (and so its server, worker and
simulator) is stopped at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parent.parent
SMM = ROOT / ".venv" / "bin" / "smmpanel"
OUT = ROOT / "docs" / "screenshots"
#: Debian's Chromium, as the browser tests use it (tests/web/harness.py).
CHROMIUM = os.environ.get("SMMPANEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The window of every picture unless its row says otherwise; PHONE for the narrow layout.
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
WIDE_VIEWPORT: ViewportSize = {"width": 1920, "height": 720}
PROVIDERS_VIEWPORT: ViewportSize = {"width": 1280, "height": 480}
#: Who a row's `who` logs in: the users `smmpanel demo-seed` makes.
PEOPLE = {"staff": "admin", "customer": "demo"}
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


def fit_table(page: Page, viewport: ViewportSize) -> None:
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


# -- how a row is photographed: (page, the row, the file) once the row's path is open -------

Take = Callable[[Page, "Shot", Path], None]


def window(page: Page, shot: Shot, path: Path) -> None:
    """What the window shows, as a person first sees the page."""
    page.screenshot(path=path, full_page=False)


def whole_table(page: Page, shot: Shot, path: Path) -> None:
    """An admin list with all its columns: the window widened to fit them."""
    fit_table(page, shot.viewport)
    page.screenshot(path=path, full_page=False)


def providers_balance(page: Page, shot: Shot, path: Path) -> None:
    """The provider list right after asking each provider for its balance: the worker asked
    when it started, before the orders were placed."""
    page.check("input.action-select")
    page.select_option("select[name=action]", "check_balance")
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")
    whole_table(page, shot, path)


def section(first: str, last_inline: str, *, only: str = "") -> Take:
    """One admin change page, from the fieldset titled `first` (the first one when empty)
    down to the end of the inline table titled `last_inline`, in a window just tall enough.
    With `only`, the other titled sections are hidden and that one is unfolded."""

    def take(page: Page, shot: Shot, path: Path) -> None:
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
        page.set_viewport_size({"width": shot.viewport["width"], "height": height})
        page.evaluate(f"() => window.scrollTo(0, {int(top) - MARGIN})")
        page.screenshot(path=path, full_page=False)

    return take


@dataclass(frozen=True)
class Shot:
    """One picture: docs/screenshots/<name>.png of `path` seen by `who`."""

    name: str
    #: Filled in from the demo's orders: {featured} (a completed forwarded order), {drip}
    #: (a drip-feed the panel runs), {cancelled}, {held}.
    path: str
    #: None: nobody logged in; else a key of PEOPLE.
    who: str | None = None
    viewport: ViewportSize = field(default_factory=lambda: VIEWPORT)
    take: Take = window


#: One order: from its Provider section down to the end of its event history.
order_section = section("Provider", "Order events")
#: A drip-feed the panel runs: the parent and the child order of each run so far.
dripfeed_section = section("", "Runs and post orders", only="Drip-feed")
ORDER = "/admin/orders/order/{}/change/"

#: Every picture `make screenshots` takes, in order. Add a row for a new page.
# fmt: off
PAGES: list[Shot] = [
    #    name               path                          who      window              how
    Shot("home",            "/"),
    Shot("home-phone",      "/",                          None,    PHONE),
    Shot("signup",          "/accounts/signup/"),
    Shot("order-new",       "/order/new?service=1",       "customer"),
    Shot("order-new-phone", "/order/new?service=1",       "customer", PHONE),
    Shot("order-mass",      "/order/mass",                "customer"),
    Shot("orders",          "/orders",                    "customer"),
    Shot("orders-phone",    "/orders",                    "customer", PHONE),
    Shot("dripfeeds",       "/orders/dripfeeds",          "customer"),
    Shot("refills",         "/orders/refills",            "customer"),
    Shot("services",        "/services",                  "customer"),
    Shot("funds",           "/funds",                     "customer"),
    Shot("api",             "/api",                       "customer"),
    Shot("tickets",         "/tickets/new",               "customer"),
    Shot("account",         "/account",                   "customer"),
    Shot("admin-orders",    "/admin/orders/order/",       "staff", WIDE_VIEWPORT,      whole_table),
    Shot("admin-providers", "/admin/providers/provider/", "staff", PROVIDERS_VIEWPORT,
         providers_balance),
    Shot("admin-order",     ORDER.format("{featured}"),   "staff", take=order_section),
    Shot("admin-dripfeed",  ORDER.format("{drip}"),       "staff", take=dripfeed_section),
]
# fmt: on


def session_cookie(env: dict[str, str], username: str) -> tuple[str, str]:
    """A logged-in session for `username`, made by the panel itself as a login would: the
    cookie's name and value."""
    code = (
        "from django.conf import settings\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        "client = Client()\n"
        f"client.force_login(get_user_model().objects.get(username={username!r}))\n"
        "print(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)"
    )
    done = subprocess.run(  # noqa: S603 - fixed argv
        [str(SMM), "shell", "-v", "0", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    name, value = done.stdout.strip().splitlines()[-1].split()
    return name, value


def new_context(browser: Browser, base: str, who: str | None) -> BrowserContext:
    context = browser.new_context(
        base_url=base, viewport=VIEWPORT, locale="en-US", timezone_id="UTC"
    )
    # The admin's app menu folded away (it remembers that in the browser): room for tables.
    context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    if who is not None:
        name, value = session_cookie(dict(os.environ), PEOPLE[who])
        context.add_cookies([{"name": name, "value": value, "url": base, "httpOnly": True}])
    return context


def shoot(base: str, shots: list[Shot], ids: dict[str, int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        contexts: dict[str | None, BrowserContext] = {}
        for shot in shots:
            if shot.who not in contexts:
                contexts[shot.who] = new_context(browser, base, shot.who)
            page = contexts[shot.who].new_page()
            page.set_viewport_size(shot.viewport)
            response = page.goto(shot.path.format(**ids))
            if response is None or not response.ok:
                status = response.status if response else "no answer"
                raise RuntimeError(f"{shot.name}: {shot.path} answered {status} ({page.url})")
            shot.take(page, shot, OUT / f"{shot.name}.png")
            page.close()
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


def chosen(names: list[str]) -> list[Shot]:
    known = {shot.name: shot for shot in PAGES}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"no such page: {', '.join(unknown)} (PAGES has: {', '.join(known)})")
    return [known[name] for name in names] if names else PAGES


def main() -> int:
    shots = chosen(sys.argv[1:])
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
            url = f"{base}/api/v2"

            placed = place_orders(url, key, Sim(sim_port))
            time.sleep(SETTLE_SECONDS)  # the worker follows them to In progress and Completed
            api(url, key, action="cancel", orders=str(placed["Default (to cancel)"]))
            time.sleep(3)  # the worker passes the cancel on

            ids = {
                "featured": featured_order(url, key, placed),
                "drip": placed["Drip-feed run by the panel"],
                "cancelled": placed["Default (to cancel)"],
                "held": placed[HELD[0]],
            }
            shoot(base, shots, ids)
        except BaseException:
            stop(up)
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop(up)
    for shot in shots:
        png = OUT / f"{shot.name}.png"
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
