"""A provider panel that speaks API v2 and fulfils orders over time, with fault injection.

It is the demo's upstream provider and the test suite's real peer over loopback. It is pure
standard library on purpose (no Django, nothing from the rest of the project): a peer that
shares our parsing or pricing code would share its bugs too.

    sim = Simulator(speed=1e6, start_delay=0.05, seed=1)
    sim.start()                      # -> the port; serves in a daemon thread
    sim.url                          # "http://127.0.0.1:PORT/api/v2", key "sim-key"
    sim.set_faults(timeout=1.0, actions=("add",))
    sim.stats()["created_by_link"]   # {"https://example.com/p/1": 1}
    sim.stop()

Fulfilment is computed lazily from `clock` on every request: an order is Pending for
`start_delay` seconds, then In progress delivering `speed` units a second, then Completed
(or, with probability `partial_rate`, Partial with some remains). A fake `clock` makes every
step deterministic. Drip-feed intervals and subscription delays are in "minutes" of
`minute` seconds each; a watched account publishes a new post every `post_interval` seconds.

Outside the API, for tests and operators (no key needed; bind to loopback):

GET /__sim/stats -> the same dict as `Simulator.stats()`:
    {"requests": {"add": 3, "status": 5}, "requests_total": 8,
     "faults": {"drop": 0, "error5xx": 0, "html": 0, "malformed": 0, "error": 0, "timeout": 1},
     "orders_created": 3, "created_by_link": {"https://example.com/p/1": 1},
     "balance": "9998.20000",
     "orders": {"1001": {"order": 1001, "service": 1, "type": "Default", "link": "...",
                "status": "Completed", "charge": "0.90000", "refunded": "0.00000",
                "start_count": 8905, "quantity": 1000, "delivered": 1000, "remains": 0,
                "from_add": true, "parent": null, "params": {...}}},  # + runs/completed_runs
                                                       # for drip-feed, posts/orders for subs
     "refills": {"1": {"refill": 1, "order": 1001, "status": "Pending"}},
     "config": {"key": ..., "speed": ..., "start_delay": ..., "partial_rate": ...,
                "hang_seconds": ..., "minute": ..., "post_interval": ..., "refill_period": ...,
                "duplicate_link_check": true, "balance": "...", "faults": {...}}}
POST /__sim/control, a JSON object, every key optional (same as `Simulator.control()`):
    {"faults": {"timeout": 1.0, "drop": 0, "error5xx": 0, "html": 0, "malformed": 0,
                "error": 0, "actions": ["add"]},        # replaces all rates; null: all off
     "speed": 1e6, "start_delay": 0.1, "partial_rate": 0.5, "hang_seconds": 2,
     "minute": 1, "post_interval": 5, "refill_period": 86400, "balance": "100.00",
     "duplicate_link_check": false, "reset_stats": true}
  -> 200 {"ok": true, "config": {...as in stats...}}, or 400 {"error": "..."} changing nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "DEFAULT_SERVICES",
    "FAULT_KINDS",
    "SERVICE_TYPES",
    "FaultRates",
    "SimService",
    "Simulator",
]

# --- The words of API v2 (api-v2.md), spelled as clients match on them ----------------------

INVALID_KEY = "Invalid API key"
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE = "Incorrect service ID"
BAD_LINK = "Bad link"
QUANTITY_LESS = "Quantity less than minimal {min}"
QUANTITY_MORE = "Quantity more than maximum {max}"
NOT_ENOUGH_FUNDS = "Not enough funds on balance"
ACTIVE_ORDER_LINK = "You have active order with this link. Please wait until order being completed."
INCORRECT_ORDER = "Incorrect order ID"
REFILL_NOT_FOUND = "Refill not found"
REFILL_UNAVAILABLE = "Refill is not available for this service"
REFILL_NOT_COMPLETED = "Order is not completed"
REFILL_PERIOD_OVER = "Refill period is over"
REFILL_RUNNING = "A refill is already in progress for this order"
CANCEL_UNAVAILABLE = "Cancel is not available for this service"
CANCEL_FINISHED = "Order is already finished"
DRIPFEED_UNAVAILABLE = "Drip-feed is not available for this service"
#: What the `error` fault answers: to `add`, and to any other action.
FAULT_ERROR_ADD = "Service temporarily disabled"
FAULT_ERROR_OTHER = "Temporary error, please try again later"

SERVICE_TYPES = (
    "Default",
    "Package",
    "Custom Comments",
    "Custom Comments Package",
    "Mentions with Hashtags",
    "Mentions Custom List",
    "Mentions Hashtag",
    "Mentions User Followers",
    "Mentions Media Likers",
    "Comment Likes",
    "Comment Replies",
    "Poll",
    "Invites from Groups",
    "Subscriptions",
)
#: Per type: the parameters `add` requires besides `service` (api-v2.md's table).
REQUIRED: dict[str, tuple[str, ...]] = {
    "Default": ("link", "quantity"),
    "Package": ("link",),
    "Custom Comments": ("link", "comments"),
    "Custom Comments Package": ("link", "comments"),
    "Mentions with Hashtags": ("link", "quantity", "usernames", "hashtags"),
    "Mentions Custom List": ("link", "usernames"),
    "Mentions Hashtag": ("link", "quantity", "hashtag"),
    "Mentions User Followers": ("link", "quantity", "username"),
    "Mentions Media Likers": ("link", "quantity", "media"),
    "Comment Likes": ("link", "quantity", "username"),
    "Comment Replies": ("link", "username", "comments"),
    "Poll": ("link", "quantity", "answer_number"),
    "Invites from Groups": ("link", "quantity", "groups"),
    "Subscriptions": ("username", "min", "max", "delay"),
}
#: Types whose quantity is the number of lines of a list parameter.
COUNTED_LIST = {
    "Custom Comments": "comments",
    "Mentions Custom List": "usernames",
    "Comment Replies": "comments",
}
PACKAGE_TYPES = frozenset({"Package", "Custom Comments Package"})
SUBSCRIPTION_DELAYS = frozenset(
    {0, 5, 10, 15, 20, 30, 40, 50, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480}
    | {540, 600}
)

PENDING, IN_PROGRESS, COMPLETED, PARTIAL, CANCELED = (
    "Pending",
    "In progress",
    "Completed",
    "Partial",
    "Canceled",
)
ACTIVE, PAUSED, EXPIRED = "Active", "Paused", "Expired"
RUNNING = frozenset({PENDING, IN_PROGRESS})
SUB_RUNNING = frozenset({ACTIVE, PAUSED})

MAX_IDS = 100
MAX_UNITS = 1_000_000_000
MAX_LINK = 2000
MAX_BODY = 1_000_000
#: A subscription creates at most this many posts' orders per step (a fake clock may jump).
MAX_POSTS_PER_STEP = 1000

QUANTUM = Decimal("0.00001")
PER = Decimal(1000)


# --- Small pure helpers ---------------------------------------------------------------------


def money(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_UP)


def price(rate: Decimal, units: int) -> Decimal:
    """rate per 1000 x units, 5 places half-up."""
    return money(rate * units / PER)


def format_money(value: Decimal) -> str:
    return f"{money(value):f}"


def format_rate(rate: Decimal) -> str:
    """At least 2 places, no trailing zeros past them: "0.90", "0.33333", "7.50"."""
    whole, _, frac = f"{money(rate):f}".partition(".")
    return f"{whole}.{frac.rstrip('0'):0<2}"


def parse_whole(text: str) -> int | None:
    """A whole number however a client spells it ("12", "12.0", "1.2e+01"), else None."""
    token = text.strip()
    if not token or len(token) > 40:
        return None
    try:
        value = Decimal(token)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value() or value.adjusted() > 18:
        return None
    return int(value)


def parse_id(text: str) -> int | None:
    number = parse_whole(text)
    return number if number is not None and number > 0 else None


def split_list(text: str) -> list[str]:
    return [token.strip() for token in text.split(",") if token.strip()]


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _as_text(value: Any) -> str:
    """A JSON body's value as the form-encoded wire would carry it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return ",".join(_as_text(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


class SimError(Exception):
    """A refusal the client reads as {"error": message}."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Catalog and fault settings -------------------------------------------------------------


@dataclass(frozen=True)
class SimService:
    service: int
    name: str
    type: str
    category: str
    rate: str  # per 1000 units (per package for the package types), a decimal string
    min: int
    max: int
    refill: bool = False
    cancel: bool = False
    dripfeed: bool = False
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.type not in REQUIRED:
            raise ValueError(f"unknown service type {self.type!r}")
        Decimal(self.rate)  # refuse a malformed rate at once

    @property
    def price(self) -> Decimal:
        return Decimal(self.rate)

    def wire(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "name": self.name,
            "type": self.type,
            "category": self.category,
            "rate": format_rate(self.price),
            "min": str(self.min),
            "max": str(self.max),
            "refill": self.refill,
            "cancel": self.cancel,
            "dripfeed": self.dripfeed,
        }


_S = SimService
#: One service of every type (two Default ones with awkward rates), and one disabled.
DEFAULT_SERVICES: tuple[SimService, ...] = (
    _S(1, "Instagram Followers [Refill 30d]", "Default", "Instagram", "0.90", 10, 100_000,
       refill=True, cancel=True, dripfeed=True),
    _S(2, "Instagram Likes", "Default", "Instagram", "0.33333", 10, 50_000,
       cancel=True, dripfeed=True),
    _S(3, "YouTube Views", "Default", "YouTube", "0.005", 100, 10_000_000),
    _S(4, "Instagram Followers Package 1000", "Package", "Packages", "7.50", 1, 1),
    _S(5, "Instagram Custom Comments", "Custom Comments", "Comments", "12.00", 1, 1000,
       cancel=True),
    _S(6, "Instagram Custom Comments Package 10", "Custom Comments Package", "Packages",
       "25.00", 1, 1),
    _S(7, "Instagram Mentions with Hashtags", "Mentions with Hashtags", "Mentions", "3.20",
       100, 10_000),
    _S(8, "Instagram Mentions Custom List", "Mentions Custom List", "Mentions", "4.00", 1, 1000),
    _S(9, "Instagram Mentions Hashtag", "Mentions Hashtag", "Mentions", "2.80", 100, 10_000),
    _S(10, "Instagram Mentions User Followers", "Mentions User Followers", "Mentions", "2.50",
       100, 10_000),
    _S(11, "Instagram Mentions Media Likers", "Mentions Media Likers", "Mentions", "2.60",
       100, 10_000),
    _S(12, "Instagram Comment Likes", "Comment Likes", "Comments", "1.30", 10, 5000,
       cancel=True),
    _S(13, "Instagram Comment Replies", "Comment Replies", "Comments", "9.00", 1, 500),
    _S(14, "Telegram Poll Votes", "Poll", "Telegram", "1.10", 10, 10_000, cancel=True),
    _S(15, "Telegram Group Members from Groups", "Invites from Groups", "Telegram", "5.00",
       50, 5000, refill=True),
    _S(16, "Instagram Auto Likes (Subscription)", "Subscriptions", "Subscriptions", "1.80",
       50, 5000, cancel=True),
    _S(17, "Retired Followers", "Default", "Instagram", "0.50", 10, 1000, enabled=False),
)  # fmt: skip

FAULT_KINDS = ("drop", "error5xx", "html", "malformed", "error", "timeout")


@dataclass(frozen=True)
class FaultRates:
    """Independent probabilities (0..1) per API request, rolled in FAULT_KINDS order; the
    first that fires is what the request gets. `actions` limits faults to those actions
    (lower-case names, e.g. ("add",)); empty means every request to the API."""

    timeout: float = 0.0
    drop: float = 0.0
    error5xx: float = 0.0
    html: float = 0.0
    malformed: float = 0.0
    error: float = 0.0
    actions: tuple[str, ...] = ()

    KINDS: ClassVar[tuple[str, ...]] = FAULT_KINDS

    def __post_init__(self) -> None:
        for kind in FAULT_KINDS:
            rate = getattr(self, kind)
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ValueError(f"fault rate {kind} must be a number from 0 to 1, not {rate!r}")
        if isinstance(self.actions, str) or not all(isinstance(a, str) for a in self.actions):
            raise ValueError("fault actions must be a list of action names")
        object.__setattr__(self, "actions", tuple(a.strip().lower() for a in self.actions))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {kind: getattr(self, kind) for kind in FAULT_KINDS}
        data["actions"] = list(self.actions)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRates:
        unknown = set(data) - {*FAULT_KINDS, "actions"}
        if unknown:
            raise ValueError(f"unknown fault kinds: {', '.join(sorted(unknown))}")
        rates = {k: data[k] for k in FAULT_KINDS if k in data}
        actions = data.get("actions") or ()
        if isinstance(actions, str):
            actions = (actions,)
        if not isinstance(actions, list | tuple):
            raise ValueError("fault actions must be a list of action names")
        return cls(**rates, actions=tuple(actions))

    def applies_to(self, action: str) -> bool:
        return not self.actions or action in self.actions


# --- State ----------------------------------------------------------------------------------


@dataclass
class _Subscription:
    username: str
    low: int
    high: int
    delay: int
    posts: int | None
    old_posts: int
    expiry: dt.date | None
    expiry_at: float | None
    old_done: int = 0
    new_done: int = 0
    children: list[int] = field(default_factory=list)

    @property
    def delivered_posts(self) -> int:
        return self.old_done + self.new_done


@dataclass
class _Order:
    id: int
    service: SimService
    link: str
    units: int  # what is delivered in all (quantity x runs; 1 for a package)
    target: int  # where delivery stops: units, or fewer for an order fated to be Partial
    charge: Decimal
    rate: Decimal
    start_count: int
    created_at: float
    start_at: float
    from_add: bool
    quantity: int = 0  # per run, for drip-feed
    runs: int = 0
    interval: int = 0
    status: str = PENDING
    delivered: float = 0.0
    last: float = 0.0
    remains_final: int | None = None
    refunded: Decimal = Decimal("0.00000")
    finished_at: float | None = None
    parent: int | None = None
    sub: _Subscription | None = None
    params: dict[str, str] = field(default_factory=dict)

    def remains(self) -> int:
        if self.remains_final is not None:
            return self.remains_final
        return self.units - int(self.delivered)

    def completed_runs(self) -> int:
        return min(self.runs, int(self.delivered) // self.quantity) if self.runs else 0


@dataclass
class _Refill:
    id: int
    order: int
    created_at: float
    start_at: float
    done_at: float

    def status(self, now: float) -> str:
        if now < self.start_at:
            return PENDING
        return IN_PROGRESS if now < self.done_at else COMPLETED


def _number(data: Mapping[str, Any], name: str, *, low: float, high: float | None) -> float:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bound}")
    return float(value)


# --- The simulator --------------------------------------------------------------------------


class Simulator:
    """An upstream API v2 panel on loopback. All state lives under one lock."""

    def __init__(
        self,
        key: str = "sim-key",
        *,
        speed: float = 100.0,
        start_delay: float = 2.0,
        seed: int | None = None,
        faults: FaultRates | None = None,
        partial_rate: float = 0.0,
        hang_seconds: float = 10.0,
        minute: float = 60.0,
        post_interval: float = 60.0,
        refill_period: float = 30 * 86400.0,
        balance: Decimal | str | int = "10000",
        currency: str = "USD",
        services: Iterable[SimService] | None = None,
        duplicate_link_check: bool = True,
        first_order_id: int = 1001,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.key = key
        self.currency = currency
        self._clock = clock
        self._log = log
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        catalog = services if services is not None else DEFAULT_SERVICES
        self._services: dict[int, SimService] = {s.service: s for s in catalog}
        self._orders: dict[int, _Order] = {}
        self._active: set[int] = set()
        self._refills: dict[int, _Refill] = {}
        self._next_order = first_order_id
        self._next_refill = 1
        self._requests: dict[str, int] = {}
        self._fault_counts: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._faults = faults or FaultRates()
        self._speed = 0.0
        self._start_delay = 0.0
        self._partial_rate = 0.0
        self._hang_seconds = 0.0
        self._minute = 0.0
        self._post_interval = 0.0
        self._refill_period = 0.0
        self._balance = Decimal(0)
        self._duplicate_link_check = True
        self.configure(
            speed=speed,
            start_delay=start_delay,
            partial_rate=partial_rate,
            hang_seconds=hang_seconds,
            minute=minute,
            post_interval=post_interval,
            refill_period=refill_period,
            balance=balance,
            duplicate_link_check=duplicate_link_check,
        )

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 picks a free port) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self._stopping.clear()
        server = _Server((host, port), _Handler)
        server.sim = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True,
            name=f"simulator:{server.server_address[1]}",
        )  # fmt: skip
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop serving; requests hanging in a `timeout` fault are woken and end."""
        self._stopping.set()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        host = str(self._server.server_address[0])
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/v2"

    # -- runtime settings -------------------------------------------------------------------

    def set_faults(self, faults: FaultRates | None = None, **rates: Any) -> FaultRates:
        """Replace the fault rates: set_faults(FaultRates(drop=1.0)), set_faults(timeout=0.5,
        actions=("add",)), or set_faults() to turn every fault off."""
        new = faults if faults is not None else FaultRates.from_dict(rates)
        with self._lock:
            self._faults = new
        return new

    @property
    def faults(self) -> FaultRates:
        return self._faults

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change speed, start_delay, partial_rate, hang_seconds, minute, post_interval,
        refill_period, balance or duplicate_link_check at runtime; returns the config.
        Orders already placed keep their start time and their fate (Partial or not)."""
        allowed = {
            "speed",
            "start_delay",
            "partial_rate",
            "hang_seconds",
            "minute",
            "post_interval",
            "refill_period",
            "balance",
            "duplicate_link_check",
        }
        unknown = set(settings) - allowed
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        # Validate everything before changing anything.
        values: dict[str, Any] = {}
        for name in ("speed", "minute", "post_interval"):
            if name in settings:
                values[name] = _number(settings, name, low=1e-9, high=None)
        for name in ("start_delay", "hang_seconds", "refill_period"):
            if name in settings:
                values[name] = _number(settings, name, low=0, high=None)
        if "partial_rate" in settings:
            values["partial_rate"] = _number(settings, "partial_rate", low=0, high=1)
        if "balance" in settings:
            raw = settings["balance"]
            if isinstance(raw, bool) or not isinstance(raw, Decimal | str | int):
                raise ValueError("balance must be a decimal string, never a float")
            try:
                amount = money(Decimal(raw))
            except InvalidOperation as exc:
                raise ValueError(f"balance is not an amount: {raw!r}") from exc
            if not amount.is_finite() or amount < 0:
                raise ValueError("balance must not be negative")
            values["balance"] = amount
        if "duplicate_link_check" in settings:
            if not isinstance(settings["duplicate_link_check"], bool):
                raise ValueError("duplicate_link_check must be true or false")
            values["duplicate_link_check"] = settings["duplicate_link_check"]
        with self._lock:
            # Deliveries so far happened at the old speed.
            self._advance(self._clock())
            for name, value in values.items():
                setattr(self, f"_{name}", value)
            return self._config()

    def control(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """What POST /__sim/control does: {"faults": {...}, "reset_stats": true, and any
        configure() setting}. Raises ValueError on a bad value, changing nothing."""
        data = dict(data)
        faults = FaultRates.from_dict(data.pop("faults") or {}) if "faults" in data else None
        reset = data.pop("reset_stats", False)
        if not isinstance(reset, bool):
            raise ValueError("reset_stats must be true or false")
        config = self.configure(**data)
        if faults is not None:
            self.set_faults(faults)
            config["faults"] = faults.as_dict()
        if reset:
            self.reset_stats()
        return config

    def reset_stats(self) -> None:
        """Zero the request and fault counters (orders and their counts stay)."""
        with self._lock:
            self._requests.clear()
            self._fault_counts = dict.fromkeys(FAULT_KINDS, 0)

    def _config(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "speed": self._speed,
            "start_delay": self._start_delay,
            "partial_rate": self._partial_rate,
            "hang_seconds": self._hang_seconds,
            "minute": self._minute,
            "post_interval": self._post_interval,
            "refill_period": self._refill_period,
            "duplicate_link_check": self._duplicate_link_check,
            "balance": format_money(self._balance),
            "faults": self._faults.as_dict(),
        }

    # -- observing --------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters and every order's current state, JSON-ready (GET /__sim/stats)."""
        with self._lock:
            now = self._clock()
            self._advance(now)
            by_link: dict[str, int] = {}
            for order in self._orders.values():
                if order.from_add:
                    by_link[order.link] = by_link.get(order.link, 0) + 1
            return {
                "requests": dict(self._requests),
                "requests_total": sum(self._requests.values()),
                "faults": dict(self._fault_counts),
                "orders_created": sum(by_link.values()),
                "created_by_link": by_link,
                "balance": format_money(self._balance),
                "orders": {str(o.id): self._view(o) for o in self._orders.values()},
                "refills": {
                    str(r.id): {"refill": r.id, "order": r.order, "status": r.status(now)}
                    for r in self._refills.values()
                },
                "config": self._config(),
            }

    def order(self, order_id: int) -> dict[str, Any]:
        """One order's state as in stats()["orders"]; KeyError if there is none."""
        with self._lock:
            self._advance(self._clock())
            return self._view(self._orders[order_id])

    def created_count(self, link: str) -> int:
        """How many `add` requests created an order for `link`."""
        with self._lock:
            return sum(1 for o in self._orders.values() if o.from_add and o.link == link)

    def _view(self, o: _Order) -> dict[str, Any]:
        view: dict[str, Any] = {
            "order": o.id,
            "service": o.service.service,
            "type": o.service.type,
            "link": o.link,
            "status": o.status,
            "charge": format_money(o.charge),
            "refunded": format_money(o.refunded),
            "start_count": o.start_count,
            "quantity": o.units,
            "delivered": o.units - o.remains(),
            "remains": o.remains(),
            "from_add": o.from_add,
            "parent": o.parent,
            "params": dict(o.params),
        }
        if o.runs:
            view["runs"] = o.runs
            view["completed_runs"] = o.completed_runs()
        if o.sub is not None:
            view["posts"] = o.sub.delivered_posts
            view["orders"] = list(o.sub.children)
        return view

    # -- the API, in process ----------------------------------------------------------------

    def api(self, params: Mapping[str, str]) -> Any:
        """Answer one API v2 request's parameters (no faults, no HTTP): the reply's JSON."""
        if params.get("key", "").strip() != self.key or not self.key:
            return {"error": INVALID_KEY}
        action = params.get("action", "").strip().lower()
        handler = self._handlers.get(action)
        if handler is None:
            return {"error": INCORRECT_REQUEST}
        with self._lock:
            now = self._clock()
            self._advance(now)
            try:
                return handler(self, params, now)
            except SimError as exc:
                return {"error": exc.message}

    def _roll_fault(self, action: str) -> str | None:
        """Count the request and decide its fault, if any."""
        with self._lock:
            name = action or "(none)"
            self._requests[name] = self._requests.get(name, 0) + 1
            faults = self._faults
            if not faults.applies_to(action):
                return None
            for kind in FAULT_KINDS:
                rate = getattr(faults, kind)
                if rate > 0 and self._rng.random() < rate:
                    self._fault_counts[kind] += 1
                    return kind
            return None

    def _hang(self) -> None:
        self._stopping.wait(self._hang_seconds)

    # -- actions ----------------------------------------------------------------------------

    def _a_services(self, params: Mapping[str, str], now: float) -> list[dict[str, Any]]:
        return [s.wire() for s in self._services.values() if s.enabled]

    def _a_balance(self, params: Mapping[str, str], now: float) -> dict[str, str]:
        return {"balance": format_money(self._balance), "currency": self.currency}

    def _a_add(self, params: Mapping[str, str], now: float) -> dict[str, int]:
        service_id = parse_id(params.get("service", ""))
        service = self._services.get(service_id) if service_id is not None else None
        if service is None or not service.enabled:
            raise SimError(INCORRECT_SERVICE)
        kind = service.type
        for name in REQUIRED[kind]:
            if name != "link" and not params.get(name, "").strip():
                raise SimError(f"Missing required parameter: {name}")
        if kind == "Subscriptions":
            return {"order": self._add_subscription(service, params, now)}

        link = _clean_link(params.get("link", ""))
        quantity = runs = interval = 0
        if kind in COUNTED_LIST:
            units = len(split_lines(params[COUNTED_LIST[kind]]))
            if not units:
                raise SimError(f"Missing required parameter: {COUNTED_LIST[kind]}")
            _check_range(units, service)
        elif kind in PACKAGE_TYPES:
            if kind == "Custom Comments Package" and not split_lines(params["comments"]):
                raise SimError("Missing required parameter: comments")
            units = 1
        else:
            quantity = _whole(params, "quantity")
            _check_range(quantity, service)
            units = quantity
            if kind == "Default" and params.get("runs", "").strip():
                if not service.dripfeed:
                    raise SimError(DRIPFEED_UNAVAILABLE)
                runs = _whole(params, "runs", minimum=2)
                interval = _whole(params, "interval", minimum=1)
                units = quantity * runs
                if units > MAX_UNITS:
                    raise SimError(QUANTITY_MORE.format(max=service.max))
        rate = service.price
        charge = money(rate) if kind in PACKAGE_TYPES else price(rate, units)
        self._check_link_free(service, link)
        self._debit(charge)
        target = units
        if (
            units >= 2
            and kind not in PACKAGE_TYPES
            and self._partial_rate > 0
            and self._rng.random() < self._partial_rate
        ):
            target = self._rng.randint(max(1, units // 2), units - 1)
        order = self._new_order(
            service, link, units=units, target=target, charge=charge, now=now, from_add=True
        )
        order.quantity, order.runs, order.interval = quantity, runs, interval
        order.params = {k: v for k, v in params.items() if k != "key"}
        return {"order": order.id}

    def _add_subscription(self, service: SimService, params: Mapping[str, str], now: float) -> int:
        username = params["username"].strip()
        low, high = _whole(params, "min"), _whole(params, "max")
        if low < service.min:
            raise SimError(QUANTITY_LESS.format(min=service.min))
        if high > service.max:
            raise SimError(QUANTITY_MORE.format(max=service.max))
        if low > high:
            raise SimError("Invalid min: must not be greater than max")
        delay = _whole(params, "delay")
        if delay not in SUBSCRIPTION_DELAYS:
            allowed = ", ".join(str(d) for d in sorted(SUBSCRIPTION_DELAYS))
            raise SimError(f"Invalid delay: must be one of {allowed}")
        posts = _whole(params, "posts", minimum=1) if params.get("posts", "").strip() else None
        old = _whole(params, "old_posts") if params.get("old_posts", "").strip() else 0
        expiry: dt.date | None = None
        expiry_at: float | None = None
        if raw := params.get("expiry", "").strip():
            try:
                expiry = dt.datetime.strptime(raw, "%d/%m/%Y").date()
            except ValueError as exc:
                raise SimError("Invalid expiry: expected a date as d/m/Y, like 31/12/2026") from exc
            wall = dt.datetime.now(dt.UTC)
            if expiry < wall.date():
                raise SimError("Invalid expiry: the date has passed")
            # The subscription ends when the expiry day is over (UTC), on our clock.
            end = dt.datetime.combine(expiry + dt.timedelta(days=1), dt.time(), dt.UTC)
            expiry_at = now + (end - wall).total_seconds()
        self._check_link_free(service, username)
        if self._balance < price(service.price, high):
            raise SimError(NOT_ENOUGH_FUNDS)
        order = self._new_order(
            service, username, units=0, target=0, charge=Decimal("0.00000"), now=now,
            from_add=True,
        )  # fmt: skip
        order.status = ACTIVE
        order.sub = _Subscription(username, low, high, delay, posts, old, expiry, expiry_at)
        order.params = {k: v for k, v in params.items() if k != "key"}
        self._advance_subscription(order, now)
        return order.id

    def _a_status(self, params: Mapping[str, str], now: float) -> dict[str, Any]:
        if params.get("orders", "").strip():
            return {
                token: self._status_of(number) if number in self._orders else _err(INCORRECT_ORDER)
                for token, number in _ids(params, "orders")
            }
        number = parse_id(params.get("order", ""))
        if number is None or number not in self._orders:
            raise SimError(INCORRECT_ORDER)
        return self._status_of(number)

    def _status_of(self, order_id: int | None) -> dict[str, Any]:
        o = self._orders[cast(int, order_id)]
        if o.sub is not None:
            return {
                "charge": format_money(o.charge),
                "status": o.status,
                "posts": str(o.sub.delivered_posts),
                "orders": list(o.sub.children),
                "expiry": o.sub.expiry.strftime("%d/%m/%Y") if o.sub.expiry else None,
                "currency": self.currency,
            }
        reply: dict[str, Any] = {
            "charge": format_money(o.charge),
            "start_count": str(o.start_count),
            "status": o.status,
            "remains": str(o.remains()),
            "currency": self.currency,
        }
        if o.runs:
            reply["runs"] = str(o.runs)
            reply["completed_runs"] = str(o.completed_runs())
        return reply

    def _a_refill(self, params: Mapping[str, str], now: float) -> Any:
        if params.get("orders", "").strip():
            return _each(params, "orders", "order", "refill", lambda n: self._refill(n, now))
        return {"refill": str(self._refill(parse_id(params.get("order", "")), now))}

    def _refill(self, order_id: int | None, now: float) -> int:
        o = self._orders.get(order_id) if order_id is not None else None
        if o is None:
            raise SimError(INCORRECT_ORDER)
        if not o.service.refill or o.sub is not None:
            raise SimError(REFILL_UNAVAILABLE)
        if o.status not in (COMPLETED, PARTIAL) or o.finished_at is None:
            raise SimError(REFILL_NOT_COMPLETED)
        if now - o.finished_at > self._refill_period:
            raise SimError(REFILL_PERIOD_OVER)
        if any(r.order == o.id and r.status(now) != COMPLETED for r in self._refills.values()):
            raise SimError(REFILL_RUNNING)
        start = now + self._start_delay
        # A refill tops up what dropped off: a tenth of the order, at the current speed.
        work = max(1, o.units // 10) / self._speed
        refill = _Refill(self._next_refill, o.id, now, start, start + work)
        self._next_refill += 1
        self._refills[refill.id] = refill
        return refill.id

    def _a_refill_status(self, params: Mapping[str, str], now: float) -> Any:
        def one(number: int | None) -> str:
            refill = self._refills.get(number) if number is not None else None
            if refill is None:
                raise SimError(REFILL_NOT_FOUND)
            return refill.status(now)

        if params.get("refills", "").strip():
            return _each(params, "refills", "refill", "status", one)
        return {"status": one(parse_id(params.get("refill", "")))}

    def _a_cancel(self, params: Mapping[str, str], now: float) -> list[dict[str, Any]]:
        name = "orders" if params.get("orders", "").strip() else "order"
        if not params.get(name, "").strip():
            raise SimError("Missing required parameter: orders")
        return _each(params, name, "order", "cancel", lambda n: self._cancel(n, now))

    def _cancel(self, order_id: int | None, now: float) -> int:
        o = self._orders.get(order_id) if order_id is not None else None
        if o is None:
            raise SimError(INCORRECT_ORDER)
        if not o.service.cancel:
            raise SimError(CANCEL_UNAVAILABLE)
        if o.sub is not None:
            if o.status not in SUB_RUNNING:
                raise SimError(CANCEL_FINISHED)
            self._finish(o, CANCELED, now, refund=False)
            return 1
        if o.status not in RUNNING:
            raise SimError(CANCEL_FINISHED)
        done = int(o.delivered)
        if done == 0:
            self._finish(o, CANCELED, now, remains=o.units)
        else:
            self._finish(o, PARTIAL, now, remains=o.units - done)
        return 1

    _handlers: ClassVar[dict[str, Callable[[Simulator, Mapping[str, str], float], Any]]] = {
        "services": _a_services,
        "add": _a_add,
        "status": _a_status,
        "refill": _a_refill,
        "refill_status": _a_refill_status,
        "cancel": _a_cancel,
        "balance": _a_balance,
    }

    # -- bookkeeping (callers hold the lock) ------------------------------------------------

    def _check_link_free(self, service: SimService, link: str) -> None:
        if not self._duplicate_link_check:
            return
        for oid in self._active:
            o = self._orders[oid]
            if o.service.service == service.service and o.link == link and o.from_add:
                raise SimError(ACTIVE_ORDER_LINK)

    def _debit(self, amount: Decimal) -> None:
        if amount > self._balance:
            raise SimError(NOT_ENOUGH_FUNDS)
        self._balance -= amount

    def _new_order(
        self,
        service: SimService,
        link: str,
        *,
        units: int,
        target: int,
        charge: Decimal,
        now: float,
        from_add: bool,
        parent: int | None = None,
    ) -> _Order:
        order = _Order(
            id=self._next_order,
            service=service,
            link=link,
            units=units,
            target=target,
            charge=charge,
            rate=service.price,
            start_count=self._rng.randint(100, 50_000),
            created_at=now,
            start_at=now + self._start_delay,
            from_add=from_add,
            parent=parent,
        )
        self._next_order += 1
        self._orders[order.id] = order
        self._active.add(order.id)
        return order

    def _finish(
        self, o: _Order, status: str, now: float, *, remains: int = 0, refund: bool = True
    ) -> None:
        o.status = status
        o.finished_at = now
        self._active.discard(o.id)
        if o.sub is not None:
            return
        o.remains_final = remains
        o.delivered = float(o.units - remains)
        if refund and status == CANCELED:
            o.refunded = o.charge
        elif refund and status == PARTIAL:
            o.refunded = min(o.charge, price(o.rate, remains))
        self._balance += o.refunded

    def _advance(self, now: float) -> None:
        """Bring every unfinished order up to `now`: subscriptions first (they place child
        orders dated in the past), then the orders."""
        for oid in sorted(self._active):
            o = self._orders[oid]
            if o.sub is not None:
                self._advance_subscription(o, now)
        for oid in sorted(self._active):
            o = self._orders[oid]
            if o.sub is None:
                self._advance_order(o, now)

    def _advance_order(self, o: _Order, now: float) -> None:
        if o.status == PENDING:
            if now < o.start_at:
                return
            o.status = IN_PROGRESS
            o.last = o.start_at
        if now <= o.last:
            return
        gained = (now - o.last) * self._speed
        o.last = now
        cap = o.target
        if o.runs:
            started = 1 + int((now - o.start_at) / (o.interval * self._minute))
            cap = min(cap, min(o.runs, started) * o.quantity)
        o.delivered = min(float(cap), o.delivered + gained)
        if o.delivered >= o.target:
            if o.target == o.units:
                self._finish(o, COMPLETED, now)
            else:
                self._finish(o, PARTIAL, now, remains=o.units - o.target)

    def _advance_subscription(self, o: _Order, now: float) -> None:
        sub = o.sub
        if sub is None or o.status not in SUB_RUNNING:
            return
        base = o.created_at + sub.delay * self._minute
        for _ in range(MAX_POSTS_PER_STEP):
            if sub.old_done < sub.old_posts:
                due = base
            elif sub.posts is None or sub.new_done < sub.posts:
                due = base + (sub.new_done + 1) * self._post_interval
            else:
                break
            if due > now or (sub.expiry_at is not None and due >= sub.expiry_at):
                break
            quantity = self._rng.randint(sub.low, sub.high)
            cost = price(o.rate, quantity)
            if cost > self._balance:
                o.status = PAUSED  # resumes by itself once the balance allows
                return
            self._balance -= cost
            o.charge += cost
            o.status = ACTIVE
            post = sub.delivered_posts + 1
            child = self._new_order(
                o.service, f"https://instagram.com/{sub.username}/p/{post}", units=quantity,
                target=quantity, charge=cost, now=due, from_add=False, parent=o.id,
            )  # fmt: skip
            sub.children.append(child.id)
            if sub.old_done < sub.old_posts:
                sub.old_done += 1
            else:
                sub.new_done += 1
        if sub.posts is not None and sub.new_done >= sub.posts:
            self._finish(o, COMPLETED, now)
        elif sub.expiry_at is not None and now >= sub.expiry_at:
            self._finish(o, EXPIRED, now)


# --- Validation helpers ---------------------------------------------------------------------


def _err(message: str) -> dict[str, str]:
    return {"error": message}


def _whole(params: Mapping[str, str], name: str, *, minimum: int | None = None) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        raise SimError(f"Missing required parameter: {name}")
    number = parse_whole(raw)
    if number is None or abs(number) > MAX_UNITS:
        raise SimError(f"Invalid {name}: expected a whole number")
    if minimum is not None and number < minimum:
        raise SimError(f"Invalid {name}: must be at least {minimum}")
    return number


def _check_range(quantity: int, service: SimService) -> None:
    if quantity < service.min:
        raise SimError(QUANTITY_LESS.format(min=service.min))
    if quantity > service.max:
        raise SimError(QUANTITY_MORE.format(max=service.max))


def _clean_link(raw: str) -> str:
    link = raw.strip()
    if (
        not link
        or len(link) > MAX_LINK
        or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in link)
    ):
        raise SimError(BAD_LINK)
    scheme, sep, rest = link.partition("://")
    if sep and (scheme.lower() not in {"http", "https"} or not rest):
        raise SimError(BAD_LINK)
    return link


def _ids(params: Mapping[str, str], name: str) -> list[tuple[str, int | None]]:
    tokens = split_list(params.get(name, ""))
    if not tokens:
        raise SimError(f"Missing required parameter: {name}")
    if len(tokens) > MAX_IDS:
        raise SimError(f"Too many IDs in {name}: at most {MAX_IDS} per request")
    return [(token, parse_id(token)) for token in tokens]


def _each(
    params: Mapping[str, str], name: str, key: str, value: str, act: Callable[[int | None], Any]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for token, number in _ids(params, name):
        try:
            result = act(number)
        except SimError as exc:
            result = _err(exc.message)
        items.append({key: number if number is not None else token, value: result})
    return items


# --- HTTP -----------------------------------------------------------------------------------

_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_HTML_200 = (
    b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    b"<title>Just a moment...</title></head><body><h1>Checking your browser before "
    b"accessing the panel.</h1><p>This process is automatic.</p></body></html>\n"
)
#: Cut off mid-reply, as a dying PHP worker or a full disk leaves it.
_MALFORMED = b'{"charge":"0.27819","start_count":"3572","status":"In prog'


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    sim: Simulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-reply (it timed out on a `timeout` fault) is expected.
        if self.sim._log is not None:
            self.sim._log(f"connection error from {client_address}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SimPanel/1.0"
    disable_nagle_algorithm = True
    sys_version = ""
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.sim._log
        if log is not None:
            log(f"{self.address_string()} {format % args}")

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        path = urlsplit(self.path).path
        try:
            if path in ("/api/v2", "/api/v2/"):
                self._api()
            elif path == "/__sim/stats" and self.command == "GET":
                self._send(200, "application/json", _dumps(self.server.sim.stats()))
            elif path == "/__sim/control" and self.command == "POST":
                self._control()
            else:
                self._send(404, "application/json", _dumps(_err("Not found")))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return b""
        return self.rfile.read(min(length, MAX_BODY + 1))

    def _params(self) -> tuple[dict[str, str], str | None]:
        """Query string, then the body (form or JSON object) over it; or a read error."""
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        body = self._body()
        if not body:
            return params, None
        if len(body) > MAX_BODY:
            return params, "The request body is too large"
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        is_json = "json" in ctype or (
            ctype in ("", "text/plain", "application/x-www-form-urlencoded")
            and body.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"
        )
        if is_json:
            try:
                data = json.loads(body.decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                return params, "Malformed JSON body"
            if not isinstance(data, dict):
                return params, "The JSON body must be an object of parameters"
            params.update({str(k): _as_text(v) for k, v in data.items()})
        elif ctype in ("", "text/plain", "application/x-www-form-urlencoded"):
            text = body.decode("utf-8", errors="replace")
            params.update(parse_qsl(text, keep_blank_values=True))
        return params, None

    def _api(self) -> None:
        sim = self.server.sim
        params, problem = self._params()
        action = params.get("action", "").strip().lower()
        fault = sim._roll_fault(action)
        if fault == "drop":
            self.close_connection = True  # nothing written: the client sees the line die
            return
        if fault == "error5xx":
            self._send(502, "text/html", _HTML_502)
            return
        if fault == "html":
            self._send(200, "text/html; charset=UTF-8", _HTML_200)
            return
        if fault == "malformed":
            self._send(200, "application/json", _MALFORMED)
            return
        if fault == "error":
            message = FAULT_ERROR_ADD if action == "add" else FAULT_ERROR_OTHER
            self._send(200, "application/json", _dumps(_err(message)))
            return
        if fault == "timeout" and action != "add":
            sim._hang()
        reply = _err(problem) if problem is not None else sim.api(params)
        if fault == "timeout" and action == "add":
            sim._hang()  # the order exists now; the client will not hear of it in time
        self._send(200, "application/json", _dumps(reply))

    def _control(self) -> None:
        sim = self.server.sim
        try:
            data = json.loads(self._body() or b"{}")
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            config = sim.control(data)
        except (ValueError, TypeError) as exc:
            self._send(400, "application/json", _dumps(_err(str(exc))))
            return
        self._send(200, "application/json", _dumps({"ok": True, "config": config}))

    def _send(self, code: int, ctype: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()
