"""The provider simulator, exercised as a client would: real HTTP over loopback.

No database here. Time-dependent behaviour runs twice: under a fake clock (exact steps) and
under the real clock at a very fast speed (orders finish in a fraction of a second).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from smmpanel.simulator.server import (
    ACTIVE_ORDER_LINK,
    DEFAULT_SERVICES,
    SERVICE_TYPES,
    FaultRates,
    SimService,
    Simulator,
)

KEY = "sim-key"
ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Peer:
    """A simulator and an httpx client talking to it."""

    def __init__(self, sim: Simulator, client: httpx.Client, timeout: float) -> None:
        self.sim = sim
        self.client = client
        self.timeout = timeout

    def raw(self, **params: str) -> httpx.Response:
        return self.client.post(self.sim.url, data={"key": KEY, **params}, timeout=self.timeout)

    def call(self, **params: str) -> Any:
        response = self.raw(**params)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        return response.json()

    def add(self, **params: str) -> int:
        reply = self.call(action="add", **params)
        assert set(reply) == {"order"}, reply
        assert isinstance(reply["order"], int)
        return int(reply["order"])

    def status(self, order: int) -> dict[str, Any]:
        reply = self.call(action="status", order=str(order))
        assert isinstance(reply, dict)
        return reply

    def balance(self) -> Decimal:
        return Decimal(self.call(action="balance")["balance"])


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # One client for the module: building one (its TLS context) costs ~0.1 s.
    with httpx.Client(timeout=2.0) as client:
        yield client


@pytest.fixture
def make_peer(http: httpx.Client) -> Iterator[Callable[..., Peer]]:
    sims: list[Simulator] = []

    def make(timeout: float = 2.0, **options: Any) -> Peer:
        options.setdefault("seed", 7)
        sim = Simulator(**options)
        sims.append(sim)
        sim.start()
        return Peer(sim, http, timeout)

    yield make
    for sim in sims:
        sim.stop()


@pytest.fixture
def peer(make_peer: Callable[..., Peer]) -> Peer:
    """Real clock, very fast: an order is done about 0.05 s after it is placed."""
    return make_peer(speed=1e6, start_delay=0.05, hang_seconds=1.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slow(make_peer: Callable[..., Peer], clock: FakeClock) -> Peer:
    """Fake clock: 10 units a second after 5 s Pending; a "minute" is 1 s."""
    return make_peer(
        speed=10.0, start_delay=5.0, clock=clock, minute=1.0, post_interval=10.0,
        refill_period=100.0,
    )  # fmt: skip


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# --- transport and authentication -----------------------------------------------------------


def test_every_way_of_sending_parameters(peer: Peer) -> None:
    base = peer.sim.url
    replies = [
        peer.client.post(base, data={"key": KEY, "action": "balance"}),
        peer.client.post(base + "/", data={"key": KEY, "action": "balance"}),
        peer.client.post(base, json={"key": KEY, "action": "balance"}),
        peer.client.post(
            base,
            content=json.dumps({"key": KEY, "action": "balance"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        peer.client.get(base, params={"key": KEY, "action": "balance"}),
        peer.client.post(base + "?key=" + KEY, data={"action": "BALANCE ", "extra": "x"}),
    ]
    for response in replies:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"balance": "10000.00000", "currency": "USD"}


def test_key_and_action_errors(peer: Peer) -> None:
    url = peer.sim.url
    assert peer.client.post(url, data={"action": "balance"}).json() == {"error": "Invalid API key"}
    assert peer.client.post(url, data={"key": "nope", "action": "services"}).json() == {
        "error": "Invalid API key"
    }
    assert peer.call(action="launch") == {"error": "Incorrect request"}
    assert peer.call() == {"error": "Incorrect request"}
    bad_json = peer.client.post(
        url, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 200
    assert bad_json.json() == {"error": "Malformed JSON body"}
    assert peer.client.get(peer.sim.base_url + "/elsewhere").status_code == 404


def test_balance_shape(peer: Peer) -> None:
    peer.sim.configure(balance="100.84292")
    assert peer.call(action="balance") == {"balance": "100.84292", "currency": "USD"}


# --- services -------------------------------------------------------------------------------


def test_services_catalog_shape(peer: Peer) -> None:
    services = peer.call(action="services")
    assert isinstance(services, list)
    assert {s["type"] for s in services} == set(SERVICE_TYPES)
    assert len(SERVICE_TYPES) == 14
    for item in services:
        assert list(item) == [
            "service", "name", "type", "category", "rate", "min", "max", "refill", "cancel",
            "dripfeed",
        ]  # fmt: skip
        assert isinstance(item["service"], int)
        for name in ("rate", "min", "max"):
            assert isinstance(item[name], str)
        for name in ("refill", "cancel", "dripfeed"):
            assert isinstance(item[name], bool)
    first = services[0]
    assert first == {
        "service": 1, "name": "Instagram Followers [Refill 30d]", "type": "Default",
        "category": "Instagram", "rate": "0.90", "min": "10", "max": "100000", "refill": True,
        "cancel": True, "dripfeed": True,
    }  # fmt: skip
    rates = {s["service"]: s["rate"] for s in services}
    assert rates[2] == "0.33333"
    assert rates[3] == "0.005"
    assert 17 not in rates  # disabled
    assert len(services) == len([s for s in DEFAULT_SERVICES if s.enabled])


def test_custom_catalog(make_peer: Callable[..., Peer]) -> None:
    only = SimService(42, "Views", "Default", "Video", "1.5", 1, 10)
    peer = make_peer(services=[only])
    assert peer.call(action="services") == [
        {"service": 42, "name": "Views", "type": "Default", "category": "Video", "rate": "1.50",
         "min": "1", "max": "10", "refill": False, "cancel": False, "dripfeed": False}
    ]  # fmt: skip
    assert peer.call(action="add", service="1", link="https://x.test/a", quantity="5") == {
        "error": "Incorrect service ID"
    }


# --- add: every type, its parameters and its charge -----------------------------------------

LINK = "https://example.com/p/1"
VALID_ADDS: list[tuple[int, dict[str, str], str]] = [
    (1, {"link": LINK, "quantity": "1000"}, "0.90000"),
    (2, {"link": LINK, "quantity": "15"}, "0.00500"),  # 0.00499995 half-up
    (3, {"link": LINK, "quantity": "101"}, "0.00051"),  # 0.000505: half-up, not half-even
    (1, {"link": LINK, "quantity": "100", "runs": "3", "interval": "5"}, "0.27000"),
    (4, {"link": LINK}, "7.50000"),
    (5, {"link": LINK, "comments": "great\r\nnice\n\n  \nwow"}, "0.03600"),
    (6, {"link": LINK, "comments": "a\nb"}, "25.00000"),
    (7, {"link": LINK, "quantity": "100", "usernames": "a\nb", "hashtags": "#x\n#y"}, "0.32000"),
    (8, {"link": LINK, "usernames": "alice\r\nbob"}, "0.00800"),
    (9, {"link": LINK, "quantity": "200", "hashtag": "#sun"}, "0.56000"),
    (10, {"link": LINK, "quantity": "100", "username": "natgeo"}, "0.25000"),
    (11, {"link": LINK, "quantity": "100", "media": "https://example.com/p/9"}, "0.26000"),
    (12, {"link": LINK, "quantity": "10", "username": "commenter"}, "0.01300"),
    (13, {"link": LINK, "username": "u", "comments": "one\ntwo"}, "0.01800"),
    (14, {"link": LINK, "quantity": "10", "answer_number": "2"}, "0.01100"),
    (15, {"link": LINK, "quantity": "50", "groups": "g1\ng2"}, "0.25000"),
    (16, {"username": "natgeo", "min": "50", "max": "100", "delay": "30"}, "0.00000"),
    # Numbers as float-parsing clients echo them.
    (1, {"link": LINK, "quantity": "1.0e+03", "service": "1.0"}, "0.90000"),
]


@pytest.mark.parametrize(("service", "params", "charge"), VALID_ADDS)
def test_add_every_type_charges_exactly(
    make_peer: Callable[..., Peer], service: int, params: dict[str, str], charge: str
) -> None:
    peer = make_peer(start_delay=60.0)
    before = peer.balance()
    order = peer.add(**{"service": str(service), **params})
    assert order == 1001
    status = peer.status(order)
    assert status["charge"] == charge
    assert peer.balance() == before - Decimal(charge)
    if service == 16:
        assert status["status"] == "Active"
        assert status["posts"] == "0"
        assert status["orders"] == []
    else:
        assert status["status"] == "Pending"
        assert status["remains"] == str(peer.sim.order(order)["quantity"])


#: (service, parameter) for every required parameter of every type.
MISSING = sorted(
    {(s, name) for s, params, _ in VALID_ADDS if not {"runs", "service"} & set(params)
     for name in params}
)  # fmt: skip


@pytest.mark.parametrize(("service", "missing"), MISSING)
def test_add_names_each_missing_parameter(peer: Peer, service: int, missing: str) -> None:
    params = next(p for s, p, _ in VALID_ADDS if s == service)
    sent = {k: v for k, v in params.items() if k != missing}
    reply = peer.call(action="add", service=str(service), **sent)
    expected = "Bad link" if missing == "link" else f"Missing required parameter: {missing}"
    assert reply == {"error": expected}
    assert peer.sim.stats()["orders_created"] == 0


NOT_WHOLE = "Invalid quantity: expected a whole number"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"service": "999", "link": LINK, "quantity": "100"}, "Incorrect service ID"),
        ({"service": "17", "link": LINK, "quantity": "100"}, "Incorrect service ID"),
        ({"service": "abc", "link": LINK, "quantity": "100"}, "Incorrect service ID"),
        ({"service": "1.5", "link": LINK, "quantity": "100"}, "Incorrect service ID"),
        ({"link": LINK, "quantity": "100"}, "Incorrect service ID"),
        ({"service": "1", "link": LINK, "quantity": "9"}, "Quantity less than minimal 10"),
        ({"service": "1", "link": LINK, "quantity": "-5"}, "Quantity less than minimal 10"),
        ({"service": "1", "link": LINK, "quantity": "100001"}, "Quantity more than maximum 100000"),
        ({"service": "1", "link": LINK, "quantity": "ten"}, NOT_WHOLE),
        ({"service": "1", "link": LINK, "quantity": "10.5"}, NOT_WHOLE),
        ({"service": "1", "link": "not a link", "quantity": "100"}, "Bad link"),
        ({"service": "1", "link": "ftp://x.test/a", "quantity": "100"}, "Bad link"),
        ({"service": "1", "link": "  ", "quantity": "100"}, "Bad link"),
        ({"service": "3", "link": LINK, "quantity": "100", "runs": "2", "interval": "1"},
         "Drip-feed is not available for this service"),
        ({"service": "1", "link": LINK, "quantity": "100", "runs": "1", "interval": "1"},
         "Invalid runs: must be at least 2"),
        ({"service": "1", "link": LINK, "quantity": "100", "runs": "2"},
         "Missing required parameter: interval"),
        ({"service": "1", "link": LINK, "quantity": "100", "runs": "2", "interval": "0"},
         "Invalid interval: must be at least 1"),
        ({"service": "5", "link": LINK, "comments": "\n\n"},
         "Missing required parameter: comments"),
        ({"service": "8", "link": LINK, "usernames": "\n".join(f"u{i}" for i in range(1001))},
         "Quantity more than maximum 1000"),
        ({"service": "7", "link": LINK, "quantity": "99", "usernames": "a", "hashtags": "b"},
         "Quantity less than minimal 100"),
        ({"service": "16", "username": "u", "min": "49", "max": "100", "delay": "0"},
         "Quantity less than minimal 50"),
        ({"service": "16", "username": "u", "min": "50", "max": "5001", "delay": "0"},
         "Quantity more than maximum 5000"),
        ({"service": "16", "username": "u", "min": "200", "max": "100", "delay": "0"},
         "Invalid min: must not be greater than max"),
        ({"service": "16", "username": "u", "min": "50", "max": "100", "delay": "7"},
         "Invalid delay: must be one of 0, 5, 10, 15, 20, 30, 40, 50, 60, 90, 120, 150, 180, "
         "210, 240, 270, 300, 360, 420, 480, 540, 600"),
        ({"service": "16", "username": "u", "min": "50", "max": "100", "delay": "0",
          "expiry": "2020-01-01"}, "Invalid expiry: expected a date as d/m/Y, like 31/12/2026"),
        ({"service": "16", "username": "u", "min": "50", "max": "100", "delay": "0",
          "expiry": "01/01/2020"}, "Invalid expiry: the date has passed"),
        ({"service": "16", "username": "u", "min": "50", "max": "100", "delay": "0",
          "posts": "0"}, "Invalid posts: must be at least 1"),
    ],
)  # fmt: skip
def test_add_refusals_word_for_word(peer: Peer, params: dict[str, str], error: str) -> None:
    before = peer.balance()
    assert peer.call(action="add", **params) == {"error": error}
    assert peer.balance() == before
    assert peer.sim.stats()["orders_created"] == 0


def test_add_not_enough_funds(peer: Peer) -> None:
    peer.sim.configure(balance="0.89999")
    reply = peer.call(action="add", service="1", link=LINK, quantity="1000")
    assert reply == {"error": "Not enough funds on balance"}
    peer.sim.configure(balance="0.90000")
    peer.add(service="1", link=LINK, quantity="1000")
    assert peer.balance() == Decimal("0")
    # A subscription must afford its largest first post: 1.80 x 100 / 1000.
    peer.sim.configure(balance="0.17999")
    reply = peer.call(action="add", service="16", username="u", min="50", max="100", delay="0")
    assert reply == {"error": "Not enough funds on balance"}


def test_add_refuses_a_second_active_order_for_the_same_link(peer: Peer) -> None:
    peer.sim.configure(start_delay=60.0)
    first = peer.add(service="1", link=LINK, quantity="100")
    assert peer.call(action="add", service="1", link=LINK, quantity="100") == {
        "error": ACTIVE_ORDER_LINK
    }
    assert ACTIVE_ORDER_LINK == (
        "You have active order with this link. Please wait until order being completed."
    )
    # Another service, or the same link once the first order is over, is fine.
    peer.add(service="2", link=LINK, quantity="100")
    assert peer.call(action="cancel", order=str(first)) == [{"order": first, "cancel": 1}]
    peer.add(service="1", link=LINK, quantity="100")
    peer.sim.configure(duplicate_link_check=False)
    peer.add(service="1", link=LINK, quantity="100")
    assert peer.sim.created_count(LINK) == 4


# --- status ---------------------------------------------------------------------------------


def test_status_single_and_multi_shapes(peer: Peer) -> None:
    peer.sim.configure(start_delay=60.0)
    first = peer.add(service="1", link=LINK, quantity="1000")
    drip = peer.add(service="2", link=LINK, quantity="100", runs="4", interval="10")
    status = peer.status(first)
    assert list(status) == ["charge", "start_count", "status", "remains", "currency"]
    assert status["charge"] == "0.90000"
    assert status["status"] == "Pending"
    assert status["remains"] == "1000"
    assert status["currency"] == "USD"
    assert status["start_count"].isdigit()
    drip_status = peer.status(drip)
    assert drip_status["runs"] == "4"
    assert drip_status["completed_runs"] == "0"
    assert drip_status["remains"] == "400"

    assert peer.call(action="status", order="999") == {"error": "Incorrect order ID"}
    assert peer.call(action="status", order="abc") == {"error": "Incorrect order ID"}
    assert peer.call(action="status") == {"error": "Incorrect order ID"}
    multi = peer.call(action="status", orders=f"{first}, 1.002e+03,999,x,{first}.0")
    assert list(multi) == [str(first), "1.002e+03", "999", "x", f"{first}.0"]
    assert multi[str(first)] == status
    assert multi["1.002e+03"] == drip_status
    assert multi[f"{first}.0"] == status
    assert multi["999"] == {"error": "Incorrect order ID"}
    assert multi["x"] == {"error": "Incorrect order ID"}
    too_many = ",".join(str(n) for n in range(1, 102))
    assert peer.call(action="status", orders=too_many) == {
        "error": "Too many IDs in orders: at most 100 per request"
    }
    assert len(peer.call(action="status", orders=too_many.rsplit(",", 1)[0])) == 100


# --- fulfilment over time -------------------------------------------------------------------


def test_orders_complete_under_a_fast_real_clock(peer: Peer) -> None:
    peer.sim.configure(start_delay=0.5)
    order = peer.add(service="1", link=LINK, quantity="5000")
    assert peer.status(order)["status"] == "Pending"
    wait_for(lambda: peer.status(order)["status"] == "Completed")
    status = peer.status(order)
    assert status["remains"] == "0"
    assert status["charge"] == "4.50000"
    assert peer.balance() == Decimal("9995.50000")


def test_order_steps_on_a_fake_clock(slow: Peer, clock: FakeClock) -> None:
    order = slow.add(service="1", link=LINK, quantity="100")
    assert slow.status(order)["status"] == "Pending"
    clock.advance(4.9)
    assert slow.status(order)["status"] == "Pending"
    clock.advance(1.1)  # 1 s into delivery at 10 a second
    assert slow.status(order)["status"] == "In progress"
    assert slow.status(order)["remains"] == "90"
    slow.sim.configure(speed=20.0)  # the first 10 are kept, faster from now on
    clock.advance(2)
    assert slow.status(order)["remains"] == "50"
    clock.advance(2.5)
    assert slow.status(order) | {"start_count": "-"} == {
        "charge": "0.09000", "start_count": "-", "status": "Completed", "remains": "0",
        "currency": "USD",
    }  # fmt: skip
    assert slow.sim.order(order)["delivered"] == 100


def test_partial_rate_ends_partial_and_refunds_the_rest(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(speed=1e6, start_delay=0.0, partial_rate=1.0)
    order = peer.add(service="1", link=LINK, quantity="1000")
    wait_for(lambda: peer.status(order)["status"] == "Partial")
    remains = int(peer.status(order)["remains"])
    assert 0 < remains <= 500
    refund = (Decimal("0.90") * remains / 1000).quantize(Decimal("0.00001"))
    assert peer.balance() == Decimal("10000") - Decimal("0.90000") + refund
    # Packages never end Partial: one package is all or nothing.
    package = peer.add(service="4", link=LINK)
    wait_for(lambda: peer.status(package)["status"] == "Completed")
    peer.sim.configure(partial_rate=0.0)
    other = peer.add(service="1", link=LINK + "x", quantity="1000")
    wait_for(lambda: peer.status(other)["status"] == "Completed")


def test_cancel_pending_in_progress_and_finished(slow: Peer, clock: FakeClock) -> None:
    running = slow.add(service="2", link=LINK + "2", quantity="100")
    no_cancel = slow.add(service="3", link=LINK + "3", quantity="100")
    clock.advance(8)  # 3 s of delivery: 30 of 100 each
    assert slow.call(action="cancel", order=str(running)) == [{"order": running, "cancel": 1}]
    assert slow.status(running)["status"] == "Partial"
    assert slow.status(running)["remains"] == "70"
    before = slow.balance()
    reply = slow.call(action="cancel", orders=f"999, {no_cancel},x,{running}")
    assert reply == [
        {"order": 999, "cancel": {"error": "Incorrect order ID"}},
        {"order": no_cancel, "cancel": {"error": "Cancel is not available for this service"}},
        {"order": "x", "cancel": {"error": "Incorrect order ID"}},
        {"order": running, "cancel": {"error": "Order is already finished"}},
    ]
    assert slow.balance() == before
    # One that has not started yet is Canceled outright, with a full refund.
    fresh = slow.add(service="1", link=LINK + "4", quantity="100")
    before = slow.balance()
    assert slow.call(action="cancel", orders=str(fresh)) == [{"order": fresh, "cancel": 1}]
    assert slow.status(fresh)["status"] == "Canceled"
    assert slow.status(fresh)["remains"] == "100"
    assert slow.balance() == before + Decimal("0.09000")
    assert slow.call(action="cancel") == {"error": "Missing required parameter: orders"}


def test_partial_cancel_refund_is_the_undelivered_part(slow: Peer, clock: FakeClock) -> None:
    order = slow.add(service="2", link=LINK, quantity="1000")  # 0.33333
    clock.advance(5 + 1.5)  # 15 delivered
    before = slow.balance()
    slow.call(action="cancel", orders=str(order))
    assert slow.status(order)["remains"] == "985"
    # 0.33333 x 985 / 1000 = 0.32833005 -> 0.32833
    assert slow.balance() - before == Decimal("0.32833")
    assert slow.sim.order(order)["refunded"] == "0.32833"


def test_drip_feed_delivers_run_by_run(slow: Peer, clock: FakeClock) -> None:
    slow.sim.configure(speed=1000.0)
    order = slow.add(service="1", link=LINK, quantity="100", runs="3", interval="2")
    clock.advance(5.5)
    status = slow.status(order)
    assert (status["status"], status["remains"], status["runs"], status["completed_runs"]) == (
        "In progress", "200", "3", "1",
    )  # fmt: skip
    clock.advance(2)  # the second run starts 2 "minutes" (2 s) after the first
    assert (slow.status(order)["remains"], slow.status(order)["completed_runs"]) == ("100", "2")
    clock.advance(2)
    assert slow.status(order)["status"] == "Completed"
    assert slow.status(order)["completed_runs"] == "3"


# --- refills --------------------------------------------------------------------------------


def test_refill_lifecycle(slow: Peer, clock: FakeClock) -> None:
    order = slow.add(service="1", link=LINK, quantity="100")
    no_refill = slow.add(service="2", link=LINK, quantity="100")
    assert slow.call(action="refill", order=str(order)) == {"error": "Order is not completed"}
    clock.advance(20)
    assert slow.status(order)["status"] == "Completed"
    assert slow.call(action="refill", order=str(no_refill)) == {
        "error": "Refill is not available for this service"
    }
    assert slow.call(action="refill", order="999") == {"error": "Incorrect order ID"}
    assert slow.call(action="refill", order=str(order)) == {"refill": "1"}
    assert slow.call(action="refill", order=str(order)) == {
        "error": "A refill is already in progress for this order"
    }
    assert slow.call(action="refill_status", refill="1") == {"status": "Pending"}
    clock.advance(5.5)
    assert slow.call(action="refill_status", refill="1") == {"status": "In progress"}
    clock.advance(1)  # a tenth of 100 at 10 a second
    assert slow.call(action="refill_status", refill="1") == {"status": "Completed"}
    assert slow.call(action="refill_status", refill="2") == {"error": "Refill not found"}
    assert slow.call(action="refill_status", refill="x") == {"error": "Refill not found"}
    assert slow.call(action="refill_status", refills="1, 2,1.0e+00") == [
        {"refill": 1, "status": "Completed"},
        {"refill": 2, "status": {"error": "Refill not found"}},
        {"refill": 1, "status": "Completed"},
    ]
    assert slow.call(action="refill", orders=f"{order},{no_refill}, 7x") == [
        {"order": order, "refill": 2},
        {"order": no_refill, "refill": {"error": "Refill is not available for this service"}},
        {"order": "7x", "refill": {"error": "Incorrect order ID"}},
    ]
    clock.advance(101)
    assert slow.call(action="refill", order=str(order)) == {"error": "Refill period is over"}
    stats = slow.sim.stats()["refills"]
    assert stats["2"] == {"refill": 2, "order": order, "status": "Completed"}


# --- subscriptions --------------------------------------------------------------------------


def test_subscription_posts_then_completes(slow: Peer, clock: FakeClock) -> None:
    sub = slow.add(
        service="16", username="natgeo", min="50", max="50", delay="5",
        posts="2", old_posts="1",
    )  # fmt: skip
    status = slow.status(sub)
    assert status == {
        "charge": "0.00000", "status": "Active", "posts": "0", "orders": [], "expiry": None,
        "currency": "USD",
    }  # fmt: skip
    clock.advance(5)  # delay: 5 "minutes" of 1 s; the old post is served
    status = slow.status(sub)
    assert (status["posts"], status["charge"], len(status["orders"])) == ("1", "0.09000", 1)
    child = status["orders"][0]
    assert isinstance(child, int)
    assert slow.status(child)["charge"] == "0.09000"
    clock.advance(10)  # the first new post
    assert slow.status(sub)["posts"] == "2"
    clock.advance(10)
    status = slow.status(sub)
    assert (status["status"], status["posts"], status["charge"]) == ("Completed", "3", "0.27000")
    clock.advance(30)
    assert slow.status(sub)["posts"] == "3"
    for child in status["orders"]:
        assert slow.status(child)["status"] == "Completed"
    assert slow.balance() == Decimal("10000") - Decimal("0.27000")
    # Child orders are not counted as created by `add`.
    assert slow.sim.stats()["created_by_link"] == {"natgeo": 1}


def test_subscription_expires_and_cancels(slow: Peer, clock: FakeClock) -> None:
    today = dt.datetime.now(dt.UTC).date().strftime("%d/%m/%Y")
    sub = slow.add(service="16", username="a", min="50", max="60", delay="0", expiry=today)
    assert slow.status(sub)["expiry"] == today
    clock.advance(25)
    assert slow.status(sub)["status"] == "Active"
    assert slow.status(sub)["posts"] == "2"
    clock.advance(2 * 86400)
    assert slow.status(sub)["status"] == "Expired"
    assert slow.call(action="cancel", order=str(sub)) == [
        {"order": sub, "cancel": {"error": "Order is already finished"}}
    ]
    other = slow.add(service="16", username="b", min="50", max="60", delay="0")
    assert slow.call(action="cancel", order=str(other)) == [{"order": other, "cancel": 1}]
    assert slow.status(other)["status"] == "Canceled"
    clock.advance(100)
    assert slow.status(other)["posts"] == "0"


# --- faults ---------------------------------------------------------------------------------


def test_timeout_on_add_still_creates_the_order(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(timeout=0.3, speed=1e6, start_delay=0.0, hang_seconds=1.0)
    peer.sim.set_faults(timeout=1.0)
    link = "https://example.com/p/timeout"
    with pytest.raises(httpx.ReadTimeout):
        peer.raw(action="add", service="1", link=link, quantity="100")
    stats = peer.sim.stats()
    assert stats["created_by_link"] == {link: 1}
    assert stats["orders_created"] == 1
    assert stats["faults"]["timeout"] == 1
    assert stats["requests"]["add"] == 1
    peer.sim.set_faults()
    wait_for(lambda: peer.sim.order(1001)["status"] == "Completed")
    assert peer.call(action="status", order="1001")["status"] == "Completed"


def test_timeout_on_other_actions_just_hangs(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(timeout=0.2, hang_seconds=1.0)
    peer.sim.set_faults(FaultRates(timeout=1.0))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        peer.raw(action="balance")
    assert time.monotonic() - started < 0.9


def test_drop_closes_without_a_response(peer: Peer) -> None:
    peer.sim.set_faults(drop=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        peer.raw(action="add", service="1", link=LINK, quantity="100")
    assert peer.sim.stats()["orders_created"] == 0


def test_502_with_html(peer: Peer) -> None:
    peer.sim.set_faults(error5xx=1.0)
    response = peer.raw(action="add", service="1", link=LINK, quantity="100")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")
    assert peer.sim.stats()["orders_created"] == 0


def test_html_page_with_200(peer: Peer) -> None:
    peer.sim.set_faults(html=1.0)
    response = peer.raw(action="status", order="1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_malformed_json_with_200(peer: Peer) -> None:
    peer.sim.set_faults(malformed=1.0)
    response = peer.raw(action="add", service="1", link=LINK, quantity="100")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert peer.sim.stats()["orders_created"] == 0


def test_error_fault_refuses_add_before_creating(peer: Peer) -> None:
    peer.sim.set_faults(error=1.0)
    assert peer.call(action="add", service="1", link=LINK, quantity="100") == {
        "error": "Service temporarily disabled"
    }
    assert peer.call(action="balance") == {"error": "Temporary error, please try again later"}
    assert peer.sim.stats()["orders_created"] == 0
    assert peer.sim.stats()["faults"]["error"] == 2


def test_faults_limited_to_some_actions_and_changed_at_runtime(peer: Peer) -> None:
    peer.sim.set_faults(error5xx=1.0, actions=("add",))
    assert peer.raw(action="add", service="1", link=LINK, quantity="100").status_code == 502
    assert peer.call(action="balance")["currency"] == "USD"
    peer.sim.set_faults()
    assert peer.add(service="1", link=LINK, quantity="100") == 1001


def test_fault_rates_roll_independently(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(seed=3, faults=FaultRates(error=0.5))
    replies = [peer.call(action="balance") for _ in range(60)]
    failed = sum("error" in reply for reply in replies)
    assert 10 < failed < 50
    assert peer.sim.stats()["faults"]["error"] == failed
    with pytest.raises(ValueError, match="from 0 to 1"):
        FaultRates(drop=1.5)
    assert FaultRates.from_dict({"drop": 1, "actions": "ADD"}).actions == ("add",)
    with pytest.raises(ValueError, match="unknown fault kinds: flood"):
        FaultRates.from_dict({"flood": 1.0})


# --- control and stats endpoints ------------------------------------------------------------


def test_control_and_stats_over_http(peer: Peer) -> None:
    base = peer.sim.base_url
    reply = peer.client.post(
        base + "/__sim/control",
        json={"faults": {"error": 1.0, "actions": ["add"]}, "speed": 5.0, "partial_rate": 0.25,
              "start_delay": 0.5, "hang_seconds": 2, "balance": "50.5"},
    )  # fmt: skip
    assert reply.status_code == 200
    config = reply.json()["config"]
    assert reply.json()["ok"] is True
    assert config["faults"] == {
        "drop": 0.0, "error5xx": 0.0, "html": 0.0, "malformed": 0.0, "error": 1.0,
        "timeout": 0.0, "actions": ["add"],
    }  # fmt: skip
    assert (config["speed"], config["partial_rate"], config["start_delay"]) == (5.0, 0.25, 0.5)
    assert (config["hang_seconds"], config["balance"]) == (2.0, "50.50000")
    assert peer.call(action="add", service="1", link=LINK, quantity="100") == {
        "error": "Service temporarily disabled"
    }
    bad = peer.client.post(base + "/__sim/control", json={"speed": -1})
    assert bad.status_code == 400
    assert "speed" in bad.json()["error"]
    bad = peer.client.post(base + "/__sim/control", json={"balance": 1.5})
    assert bad.status_code == 400
    bad = peer.client.post(base + "/__sim/control", json={"faults": {"flood": 1}})
    assert bad.status_code == 400
    peer.client.post(base + "/__sim/control", json={"faults": None})
    order = peer.add(service="1", link=LINK, quantity="100")
    peer.call(action="status", orders=str(order))

    stats = peer.client.get(base + "/__sim/stats").json()
    assert stats["requests"] == {"add": 2, "status": 1}
    assert stats["requests_total"] == 3
    assert stats["faults"]["error"] == 1
    assert stats["orders_created"] == 1
    assert stats["created_by_link"] == {LINK: 1}
    assert stats["balance"] == "50.41000"
    entry = stats["orders"][str(order)]
    assert entry["status"] in ("Pending", "In progress")
    assert (entry["link"], entry["service"], entry["quantity"], entry["charge"]) == (
        LINK, 1, 100, "0.09000",
    )  # fmt: skip
    assert entry["params"]["quantity"] == "100"
    assert "key" not in entry["params"]
    assert stats == peer.sim.stats() | {"orders": stats["orders"]}

    peer.client.post(base + "/__sim/control", json={"reset_stats": True})
    stats = peer.client.get(base + "/__sim/stats").json()
    assert (stats["requests"], stats["requests_total"]) == ({}, 0)
    assert stats["orders_created"] == 1


def test_concurrent_adds_each_create_exactly_one_order(peer: Peer) -> None:
    results: list[int] = []

    def place(n: int) -> None:
        reply = peer.client.post(
            peer.sim.url,
            data={"key": KEY, "action": "add", "service": "1", "link": f"{LINK}/{n}",
                  "quantity": "100"},
            timeout=5,
        ).json()  # fmt: skip
        results.append(reply["order"])

    threads = [threading.Thread(target=place, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1001, 1021))
    by_link = peer.sim.stats()["created_by_link"]
    assert by_link == {f"{LINK}/{n}": 1 for n in range(20)}


def test_same_seed_same_story(make_peer: Callable[..., Peer]) -> None:
    starts = []
    for _ in range(2):
        peer = make_peer(seed=11)
        order = peer.add(service="1", link=LINK, quantity="100")
        starts.append(peer.status(order)["start_count"])
    assert starts[0] == starts[1]


def test_stop_wakes_hanging_requests_and_frees_the_port(http: httpx.Client) -> None:
    sim = Simulator(hang_seconds=30.0, faults=FaultRates(timeout=1.0))
    port = sim.start()
    errors: list[BaseException] = []

    def hang() -> None:
        try:
            http.post(sim.url, data={"key": KEY, "action": "balance"}, timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=hang)
    thread.start()
    wait_for(lambda: sim.stats()["faults"]["timeout"] == 1)
    started = time.monotonic()
    sim.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 3
    assert not thread.is_alive()
    with pytest.raises(RuntimeError):
        _ = sim.url
    again = Simulator()
    assert again.start(port=port) == port
    again.stop()


# --- the management command -----------------------------------------------------------------


def test_management_command_serves_until_sigterm(tmp_path: Path, http: httpx.Client) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "smmpanel.settings",
        "SMMPANEL_VAR": str(tmp_path),
        "SECRET_KEY": "test-only",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "smmpanel.cli", "simulator", "--port", "0", "--key", "k2",
         "--speed", "1000000", "--start-delay", "0", "--fail-error", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(30, process.kill)  # never hang the suite on a stuck child
    watchdog.start()
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Provider simulator: http://127.0.0.1:"), first + (
            process.stderr.read() if process.poll() is not None and process.stderr else ""
        )
        url = first.split(": ", 1)[1].strip()
        assert url.endswith("/api/v2")
        assert process.stdout.readline().strip() == "API key: k2"
        reply = http.post(url, data={"key": "k2", "action": "balance"}, timeout=5).json()
        assert reply == {"error": "Temporary error, please try again later"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
