"""The API v2 client: exact parsing of every reply shape (the ugly real-world ones too), the
fault classification a worker relies on, and one round trip over real loopback sockets.

No database: the network edge is an httpx.MockTransport or a stdlib HTTP server."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus

import httpx
import pytest

from smmpanel.providers.client import (
    DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT,
    ProviderAuthFailed,
    ProviderBadReply,
    ProviderClient,
    ProviderError,
    ProviderRefused,
    ProviderTimeout,
    ProviderTurnedAway,
    ProviderUnreachable,
    RemoteBalance,
    RemoteError,
    RemoteService,
    RemoteStatus,
)

URL = "https://provider.test/api/v2"
# Characters that change under form encoding, so an encoded echo is caught too.
KEY = "sk_live/9f8e+7d6c=5b4a&KEY"

Handler = Callable[[httpx.Request], httpx.Response]


def form_of(request: httpx.Request) -> dict[str, str]:
    parsed = parse_qs(request.content.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


def raw(body: str | bytes, status: int = 200, **headers: str) -> httpx.Response:
    """A reply with this exact body text (so `0.9` stays the JSON number it is)."""
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(
        status, content=content, headers={"content-type": "application/json", **headers}
    )


class Panel:
    """A fake provider: answers each request with `reply(form)` and records what it got."""

    def __init__(self, reply: Callable[[dict[str, str]], httpx.Response | str | bytes]) -> None:
        self.reply = reply
        self.requests: list[httpx.Request] = []
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        form = form_of(request)
        self.forms.append(form)
        answer = self.reply(form)
        return answer if isinstance(answer, httpx.Response) else raw(answer)


def client_for(handler: Handler) -> ProviderClient:
    return ProviderClient(URL, KEY, transport=httpx.MockTransport(handler))


def canned(body: str | bytes | httpx.Response) -> tuple[ProviderClient, Panel]:
    panel = Panel(lambda form: body)
    return client_for(panel), panel


def no_floats(value: Any) -> None:
    """Fail if a float hides anywhere in a parsed result."""
    assert not isinstance(value, float), value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            no_floats(getattr(value, field.name))
    elif isinstance(value, dict):
        for k, v in value.items():
            no_floats(k)
            no_floats(v)
    elif isinstance(value, list | tuple):
        for item in value:
            no_floats(item)


# --------------------------------------------------------------------------- the request


def test_posts_form_encoded_strings_with_the_fixed_user_agent():
    client, panel = canned('{"order": 23501}')
    assert client.add(1, link="https://instagram.com/x?a=1&b=2", quantity=1000, runs=2) == 23501
    (request,) = panel.requests
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["user-agent"] == DEFAULT_USER_AGENT
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert panel.forms == [
        {
            "key": KEY,
            "action": "add",
            "service": "1",
            "link": "https://instagram.com/x?a=1&b=2",
            "quantity": "1000",
            "runs": "2",
        }
    ]


def test_custom_user_agent_and_timeout_are_used():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return raw('{"balance": "1", "currency": "USD"}')

    timeout = httpx.Timeout(1.0, connect=0.5)
    with ProviderClient(
        URL, KEY, transport=httpx.MockTransport(handler), user_agent="Mozilla/4.0", timeout=timeout
    ) as client:
        client.balance()
        assert client._client.timeout == timeout
    assert seen[0].headers["user-agent"] == "Mozilla/4.0"
    assert seen[0].extensions["timeout"] == timeout.as_dict()


def test_defaults_explicit_timeouts_no_redirects_and_close():
    with ProviderClient(URL, KEY) as client:
        inner = client._client
        assert inner.timeout == DEFAULT_TIMEOUT
        assert DEFAULT_TIMEOUT.as_dict() == {
            "connect": 5.0,
            "read": 20.0,
            "write": 10.0,
            "pool": 5.0,
        }
        assert inner.follow_redirects is False
        assert not inner.is_closed
    assert inner.is_closed


@pytest.mark.parametrize(
    ("url", "key"),
    [("provider.test/api/v2", KEY), ("ftp://provider.test/api", KEY), ("https://", KEY), (URL, "")],
)
def test_constructor_refuses_unusable_url_or_key(url, key):
    with pytest.raises(ValueError) as info:
        ProviderClient(url, key)
    assert KEY not in str(info.value)


def test_bad_arguments_raise_before_any_request():
    client, panel = canned("{}")
    with pytest.raises(ValueError):
        client.status(0)
    with pytest.raises(ValueError):
        client.status(True)
    with pytest.raises(ValueError):
        client.statuses([1, "2"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        client.add(1, key="other")
    with pytest.raises(TypeError):
        client.add(1, link="x", quantity=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.add(1, link="x", quantity=True)
    assert panel.requests == []


# --------------------------------------------------------------------------- services

SERVICES = """[
  {"service": 1, "name": "Followers", "type": "Default", "category": "First Category",
   "rate": "0.90", "min": "50", "max": "10000", "refill": true, "cancel": true,
   "dripfeed": false},
  {"service": "2", "name": "Comments", "type": "Custom Comments", "category": "Second",
   "rate": 8, "min": 10, "max": 1500, "refill": "1", "cancel": 0},
  {"service": 3.0, "name": "Views", "type": "Default", "category": "Third",
   "rate": 0.0123, "min": "100.0", "max": 1e+06},
  {"service": "4", "name": "Likes", "type": "Package", "category": "Fourth",
   "rate": "1.5e-2", "min": 1, "max": 1, "refill": "false", "cancel": "0", "dripfeed": 1}
]"""


def test_services_reads_every_real_world_variant_exactly():
    client, panel = canned(SERVICES)
    services = client.services()
    assert services == [
        RemoteService(
            1, "Followers", "Default", "First Category", Decimal("0.90"), 50, 10000,
            refill=True, cancel=True, dripfeed=False,
        ),
        RemoteService(
            2, "Comments", "Custom Comments", "Second", Decimal(8), 10, 1500,
            refill=True, cancel=False, dripfeed=False,
        ),
        RemoteService(
            3, "Views", "Default", "Third", Decimal("0.0123"), 100, 1_000_000,
            refill=False, cancel=False, dripfeed=False,
        ),
        RemoteService(
            4, "Likes", "Package", "Fourth", Decimal("0.015"), 1, 1,
            refill=False, cancel=False, dripfeed=True,
        ),
    ]  # fmt: skip
    assert panel.forms == [{"key": KEY, "action": "services"}]
    for s in services:
        assert type(s.service) is int and type(s.min) is int and type(s.max) is int
        assert type(s.rate) is Decimal
    # The JSON number 0.0123 keeps its exact digits: it never went through a float.
    assert str(services[2].rate) == "0.0123"
    no_floats(services)


def test_services_result_is_frozen():
    client, _ = canned(SERVICES)
    service = client.services()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        service.rate = Decimal(1)  # type: ignore[misc]


def one_service(**changes: Any) -> str:
    item: dict[str, Any] = {"service": 1, "name": "x", "type": "Default", "category": "c"}
    item.update(rate="0.9", min=1, max=2)
    item.update(changes)
    return "[" + json.dumps({k: v for k, v in item.items() if v is not ...}) + "]"


@pytest.mark.parametrize(
    "body",
    [
        '{"service": 1}',  # an object where the list belongs
        one_service(max=...),
        one_service(service=1.5),
        one_service(service=True),
        one_service(service="abc"),
        one_service(rate="1,5"),
        one_service(rate="NaN"),
        one_service(rate="1_000"),
        one_service(min="\u0663"),  # a non-ASCII digit
        one_service(refill="maybe"),
        one_service(name=None),
        "[1, 2]",
    ],
)
def test_services_of_the_wrong_shape_is_a_bad_reply(body):
    client, _ = canned(body)
    with pytest.raises(ProviderBadReply) as info:
        client.services()
    assert info.value.status_code == 200
    assert info.value.may_have_reached is True


def test_services_refusal():
    client, _ = canned('{"error": "Invalid API key"}')
    with pytest.raises(ProviderAuthFailed) as info:
        client.services()
    assert info.value.message == "Invalid API key"
    assert info.value.action == "services"


# --------------------------------------------------------------------------- add


@pytest.mark.parametrize(
    "body", ['{"order": 23501}', '{"order": "23501"}', '{"order": 23501.0}',
             '{"order": 2.3501e+04}', '{"order": " 23501 "}', '{"order": 23501, "error": null}']
)  # fmt: skip
def test_add_reads_the_order_id_in_any_whole_form(body):
    client, _ = canned(body)
    order = client.add(1, link="https://x.test/a", quantity="100")
    assert order == 23501
    assert type(order) is int


@pytest.mark.parametrize(
    ("message", "retryable"),
    [
        ("Not enough funds on balance", True),
        ("Too many requests, slow down", True),
        ("Please try again later", True),
        ("Service TEMPORARILY unavailable", True),
        ("Panel is under Maintenance", True),
        ("Incorrect service ID", False),
        ("Quantity less than minimal 50", False),
        ("You have active order with this link. Please wait until order being completed.", True),
    ],
)
def test_add_refusal_carries_the_message_and_whether_it_is_retryable(message, retryable):
    client, _ = canned(json.dumps({"error": message}))
    with pytest.raises(ProviderRefused) as info:
        client.add(1, link="https://x.test/a", quantity=100)
    exc = info.value
    assert type(exc) is ProviderRefused
    assert exc.message == message
    assert message in str(exc)
    assert exc.retryable is retryable
    assert exc.may_have_reached is False


@pytest.mark.parametrize(
    "message", ["Invalid API key", "invalid api key", "Error: INVALID API  KEY"]
)
def test_invalid_api_key_is_auth_failed_and_not_retryable(message):
    client, _ = canned(json.dumps({"error": message}))
    with pytest.raises(ProviderAuthFailed) as info:
        client.add(1, link="https://x.test/a", quantity=100)
    assert isinstance(info.value, ProviderRefused)
    assert info.value.retryable is False
    assert info.value.may_have_reached is False


@pytest.mark.parametrize(
    "body",
    [
        '{"order": 5, "error": "Bad link"}',  # both: the order may well exist
        "{}",
        '{"order": 0}',
        '{"order": "abc"}',
        '{"order": 1.5}',
        '{"status": "ok"}',
        "[23501]",
        '{"error": {"code": 3}}',
        "null",
    ],
)
def test_add_with_an_unusable_reply_may_have_created_the_order(body):
    client, _ = canned(body)
    with pytest.raises(ProviderBadReply) as info:
        client.add(1, link="https://x.test/a", quantity=100)
    assert info.value.may_have_reached is True
    assert info.value.action == "add"


def test_add_error_with_a_null_order_is_a_refusal():
    client, _ = canned('{"order": null, "error": "Bad link"}')
    with pytest.raises(ProviderRefused) as info:
        client.add(1, link="nope", quantity=100)
    assert info.value.message == "Bad link"


# --------------------------------------------------------------------------- status


def test_status_reads_the_documented_example():
    client, panel = canned(
        '{"charge": "0.27819", "start_count": "3572", "status": "Partial",'
        ' "remains": "157", "currency": "USD"}'
    )
    status = client.status(23501)
    assert status == RemoteStatus(
        status="Partial",
        charge=Decimal("0.27819"),
        start_count=3572,
        remains=157,
        currency="USD",
    )
    assert panel.forms == [{"key": KEY, "action": "status", "order": "23501"}]
    assert type(status.charge) is Decimal
    no_floats(status)


def test_status_reads_numbers_where_strings_belong_and_the_extras():
    client, _ = canned(
        '{"charge": 0.27819, "start_count": 3572.0, "status": "In progress", "remains": -3,'
        ' "currency": "EUR", "runs": "5", "completed_runs": 2}'
    )
    status = client.status(1)
    assert status.charge == Decimal("0.27819") and str(status.charge) == "0.27819"
    assert (status.start_count, status.remains, status.runs, status.completed_runs) == (
        3572,
        -3,
        5,
        2,
    )
    assert status.posts is None and status.orders == ()
    no_floats(status)


def test_status_of_a_subscription():
    client, _ = canned(
        '{"charge": "1.00000", "status": "Active", "currency": "USD", "posts": "2",'
        ' "orders": [11, "12", 13.0], "expiry": "31/12/2030", "start_count": null,'
        ' "remains": ""}'
    )
    status = client.status(7)
    assert status == RemoteStatus(
        status="Active",
        charge=Decimal("1.00000"),
        start_count=None,
        remains=None,
        currency="USD",
        posts=2,
        orders=(11, 12, 13),
        expiry="31/12/2030",
    )


@pytest.mark.parametrize(
    "body",
    ['{"charge": "1"}', '{"status": 3}', '{"status": "Completed", "remains": "many"}', "[]"],
)
def test_status_of_the_wrong_shape_is_a_bad_reply(body):
    client, _ = canned(body)
    with pytest.raises(ProviderBadReply):
        client.status(1)


def test_status_refusal():
    client, _ = canned('{"error": "Incorrect order ID"}')
    with pytest.raises(ProviderRefused) as info:
        client.status(1)
    assert info.value.message == "Incorrect order ID"
    assert info.value.retryable is False


def test_statuses_reads_the_keyed_reply_with_inline_errors():
    client, panel = canned(
        '{"1": {"charge": "0.27819", "start_count": "3572", "status": "Partial",'
        ' "remains": "157", "currency": "USD"}, "10": {"error": "Incorrect order ID"},'
        ' "100": {"charge": 1.44219, "start_count": 234, "status": "In progress",'
        ' "remains": 10, "currency": "USD"}}'
    )
    result = client.statuses([1, 10, 100])
    assert panel.forms == [{"key": KEY, "action": "status", "orders": "1,10,100"}]
    assert result == {
        1: RemoteStatus("Partial", Decimal("0.27819"), 3572, 157, "USD"),
        10: RemoteError("Incorrect order ID"),
        100: RemoteStatus("In progress", Decimal("1.44219"), 234, 10, "USD"),
    }
    no_floats(result)


def test_statuses_in_chunks_of_100():
    ids = list(range(1, 251))

    def reply(form: dict[str, str]) -> str:
        return json.dumps({token: {"status": "Pending"} for token in form["orders"].split(",")})

    panel = Panel(reply)
    result = client_for(panel).statuses([*ids, 5, 17])  # repeats are asked for once
    sent = [form["orders"].split(",") for form in panel.forms]
    assert [len(chunk) for chunk in sent] == [100, 100, 50]
    assert [int(token) for chunk in sent for token in chunk] == ids
    assert sorted(result) == ids
    assert all(status == RemoteStatus("Pending") for status in result.values())


def test_statuses_of_nothing_makes_no_request():
    client, panel = canned("{}")
    assert client.statuses([]) == {}
    assert panel.requests == []


def test_statuses_tolerates_float_keys_missing_ids_and_php_empty_list():
    client, _ = canned('{"1.0": {"status": "Completed"}}')
    # Order 2 is not mentioned: it is absent, not an error about the order.
    assert client.statuses([1, 2]) == {1: RemoteStatus("Completed")}
    client, _ = canned("[]")
    assert client.statuses([1, 2]) == {}


@pytest.mark.parametrize(
    "body",
    [
        '{"3": {"status": "Completed"}}',  # an id nobody asked for
        '{"1": "Completed"}',
        '{"1": {"charge": "1"}}',
        '[{"status": "Completed"}]',
        '{"error": "x", "1": {"status": "Completed"}}',
    ],
)
def test_statuses_of_the_wrong_shape_is_a_bad_reply(body):
    client, _ = canned(body)
    with pytest.raises(ProviderBadReply):
        client.statuses([1, 2])


def test_statuses_whole_refusal():
    client, _ = canned('{"error": "Invalid API key"}')
    with pytest.raises(ProviderAuthFailed):
        client.statuses([1, 2])


# --------------------------------------------------------------------------- refill


@pytest.mark.parametrize("body", ['{"refill": "1"}', '{"refill": 1}', '{"refill": 1.0}'])
def test_refill_reads_the_refill_id(body):
    client, panel = canned(body)
    assert client.refill(23501) == 1
    assert panel.forms == [{"key": KEY, "action": "refill", "order": "23501"}]


@pytest.mark.parametrize(
    "body",
    [
        '{"error": "Refill is disabled for this service"}',
        '{"refill": {"error": "Refill is disabled for this service"}}',
    ],
)
def test_refill_refusal_flat_or_nested(body):
    client, _ = canned(body)
    with pytest.raises(ProviderRefused) as info:
        client.refill(1)
    assert info.value.message == "Refill is disabled for this service"


def test_refills_reads_the_documented_list_with_strings_numbers_and_errors():
    client, panel = canned(
        '[{"order": 1, "refill": 1}, {"order": "2", "refill": "2"},'
        ' {"order": 3.0, "refill": {"error": "Incorrect order ID"}}]'
    )
    assert client.refills([1, 2, 3]) == {1: 1, 2: 2, 3: RemoteError("Incorrect order ID")}
    assert panel.forms == [{"key": KEY, "action": "refill", "orders": "1,2,3"}]


@pytest.mark.parametrize(
    "body",
    [
        '{"1": {"refill": 1}}',
        '[{"order": 9, "refill": 1}]',
        '[{"order": 1}]',
        '[{"order": 1, "refill": "x"}]',
        '[{"refill": 1}]',
    ],
)
def test_refills_of_the_wrong_shape_is_a_bad_reply(body):
    client, _ = canned(body)
    with pytest.raises(ProviderBadReply):
        client.refills([1, 2])


def test_refill_status_single_and_multi():
    client, panel = canned('{"status": "Completed"}')
    assert client.refill_status(5) == "Completed"
    assert panel.forms == [{"key": KEY, "action": "refill_status", "refill": "5"}]

    client, panel = canned(
        '[{"refill": 1, "status": "Completed"}, {"refill": "2", "status": "Rejected"},'
        ' {"refill": 3, "status": {"error": "Refill not found"}}]'
    )
    assert client.refill_statuses([1, 2, 3]) == {
        1: "Completed",
        2: "Rejected",
        3: RemoteError("Refill not found"),
    }
    assert panel.forms == [{"key": KEY, "action": "refill_status", "refills": "1,2,3"}]


def test_refill_status_refusal_and_bad_shape():
    client, _ = canned('{"error": "Refill not found"}')
    with pytest.raises(ProviderRefused):
        client.refill_status(5)
    client, _ = canned('{"status": null}')
    with pytest.raises(ProviderBadReply):
        client.refill_status(5)


# --------------------------------------------------------------------------- cancel


def test_cancel_sends_orders_and_reads_the_documented_list():
    client, panel = canned(
        '[{"order": 9, "cancel": {"error": "Incorrect order ID"}}, {"order": 2, "cancel": 1},'
        ' {"order": "4", "cancel": "1"}, {"order": 5.0, "cancel": true}]'
    )
    assert client.cancel([9, 2, 4, 5]) == {
        9: RemoteError("Incorrect order ID"),
        2: 1,
        4: 1,
        5: 1,
    }
    assert panel.forms == [{"key": KEY, "action": "cancel", "orders": "9,2,4,5"}]


def test_cancel_in_chunks_and_whole_refusal():
    def reply(form: dict[str, str]) -> str:
        return json.dumps([{"order": int(t), "cancel": 1} for t in form["orders"].split(",")])

    panel = Panel(reply)
    result = client_for(panel).cancel(list(range(1, 102)))
    assert [len(f["orders"].split(",")) for f in panel.forms] == [100, 1]
    assert result == dict.fromkeys(range(1, 102), 1)

    client, _ = canned('{"error": "Too many requests"}')
    with pytest.raises(ProviderRefused) as info:
        client.cancel([1])
    assert info.value.retryable is True


def test_cancel_with_an_object_reply_is_a_bad_reply():
    client, _ = canned('{"order": 1, "cancel": 1}')
    with pytest.raises(ProviderBadReply):
        client.cancel([1])


# --------------------------------------------------------------------------- balance


@pytest.mark.parametrize(
    ("body", "amount"),
    [
        ('{"balance": "100.84292", "currency": "USD"}', "100.84292"),
        ('{"balance": 100.84292, "currency": "USD"}', "100.84292"),
        ('{"balance": 100, "currency": "USD"}', "100"),
        ('{"balance": "-3.5", "currency": "USD"}', "-3.5"),
    ],
)
def test_balance_is_an_exact_decimal(body, amount):
    client, panel = canned(body)
    balance = client.balance()
    assert balance == RemoteBalance(Decimal(amount), "USD")
    assert type(balance.balance) is Decimal and str(balance.balance) == amount
    assert panel.forms == [{"key": KEY, "action": "balance"}]


@pytest.mark.parametrize(
    "body",
    [
        '{"balance": "100.8"}',
        '{"currency": "USD"}',
        '{"balance": "1e999", "currency": "USD"}',
        '{"balance": NaN, "currency": "USD"}',
        '{"balance": Infinity, "currency": "USD"}',
        '{"balance": true, "currency": "USD"}',
        '[{"balance": "1", "currency": "USD"}]',
        '"100.84"',
    ],
)
def test_balance_of_the_wrong_shape_is_a_bad_reply(body):
    client, _ = canned(body)
    with pytest.raises(ProviderBadReply):
        client.balance()


def test_a_byte_order_mark_is_tolerated():
    client, _ = canned(b'\xef\xbb\xbf{"balance": "1.5", "currency": "USD"}')
    assert client.balance() == RemoteBalance(Decimal("1.5"), "USD")


# --------------------------------------------------------------------------- faults


def raising(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), ProviderUnreachable),
        (httpx.ConnectError("[Errno -2] Name or service not known"), ProviderUnreachable),
        (httpx.ConnectTimeout("timed out"), ProviderUnreachable),
        (httpx.PoolTimeout("no connection"), ProviderUnreachable),
        (httpx.ReadTimeout("timed out"), ProviderTimeout),
        (httpx.WriteTimeout("timed out"), ProviderTimeout),
        (httpx.RemoteProtocolError("Server disconnected without a response"), ProviderTimeout),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), ProviderTimeout),
    ],
)  # fmt: skip
def test_transport_failures_are_classified(failure, expected):
    client = client_for(raising(failure))
    with pytest.raises(ProviderError) as info:
        client.add(1, link="https://x.test/a", quantity=100)
    exc = info.value
    assert type(exc) is expected
    assert exc.may_have_reached is (expected is ProviderTimeout)
    assert exc.action == "add"
    assert type(failure).__name__ in str(exc)


Bad, Away = ProviderBadReply, ProviderTurnedAway


@pytest.mark.parametrize(
    ("response", "status_code", "expected", "words"),
    [
        (httpx.Response(502, html="<h1>502 Bad Gateway</h1>cloudflare"), 502, Bad, "Bad Gateway"),
        (httpx.Response(500, json={"error": "Server error"}), 500, Bad, "HTTP 500"),
        (httpx.Response(200, html="<!DOCTYPE html><title>Login</title>"), 200, Bad, "Login"),
        (raw('{"order": 235'), 200, Bad, "not JSON"),
        (raw(""), 200, Bad, "empty body"),
        (raw(b"\xff\xfe{"), 200, Bad, "not JSON"),
        (raw("[" * 100_000 + "]" * 100_000), 200, Bad, "not JSON"),
        (httpx.Response(302, headers={"location": "https://p.test/login"}), 302, Away, "redirect"),
        (httpx.Response(301, headers={"location": "/api/v2/"}), 301, Away, "/api/v2/"),
        (httpx.Response(404, html="Not Found"), 404, Away, "HTTP 404"),
        (httpx.Response(429, html="Too Many Requests"), 429, Away, "HTTP 429"),
        (httpx.Response(201, json={"order": 1}), 201, Bad, "HTTP 201"),
    ],
)  # fmt: skip
def test_unusable_answers_are_bad_replies_or_turned_away(response, status_code, expected, words):
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return response

    with pytest.raises(ProviderError) as info:
        client_for(handler).add(1, link="https://x.test/a", quantity=100)
    exc = info.value
    assert type(exc) is expected
    assert exc.status_code == status_code  # type: ignore[attr-defined]
    # What stands in front of the API turned it away: surely not processed.
    assert exc.may_have_reached is (expected is Bad)
    assert words in str(exc)
    assert len(calls) == 1  # a redirect is reported, never followed


def test_a_reply_larger_than_the_cap_is_refused():
    client, _ = canned(json.dumps([{"service": i} for i in range(1000)]))
    client.max_reply_bytes = 1000
    with pytest.raises(ProviderBadReply) as info:
        client.services()
    assert "larger than 1000 bytes" in str(info.value)


def test_a_body_that_fails_to_decompress_is_a_bad_reply():
    stream = httpx.ByteStream(b"not gzip at all")
    client, _ = canned(httpx.Response(200, headers={"content-encoding": "gzip"}, stream=stream))
    with pytest.raises(ProviderBadReply) as info:
        client.balance()
    assert info.value.may_have_reached is True


def test_the_exception_hierarchy_and_class_flags():
    assert issubclass(ProviderUnreachable, ProviderError)
    assert issubclass(ProviderTimeout, ProviderError)
    assert issubclass(ProviderBadReply, ProviderError)
    assert issubclass(ProviderRefused, ProviderError)
    assert issubclass(ProviderAuthFailed, ProviderRefused)
    assert ProviderUnreachable.may_have_reached is False
    assert ProviderTimeout.may_have_reached is True
    assert ProviderBadReply.may_have_reached is True
    assert issubclass(ProviderTurnedAway, ProviderUnreachable)
    assert ProviderTurnedAway.may_have_reached is False
    assert ProviderRefused.may_have_reached is False
    assert ProviderAuthFailed.may_have_reached is False


# --------------------------------------------------------------------------- the key stays secret


def _key_free(exc: BaseException) -> None:
    text = "\n".join(
        [str(exc), repr(exc), repr(exc.args), *traceback.format_exception(exc)]
        + [repr(v) for v in vars(exc).values()]
    )
    for form in (KEY, quote_plus(KEY)):
        assert form not in text, text


@pytest.mark.parametrize(
    "handler",
    [
        raising(httpx.ConnectError(f"cannot connect for {KEY}")),
        raising(httpx.ReadTimeout(f"read timed out key={quote_plus(KEY)}")),
        raising(httpx.RemoteProtocolError("dropped")),
        lambda request: httpx.Response(502, html=f"<pre>bad: {request.content.decode()}</pre>"),
        lambda request: httpx.Response(200, html=f"<p>{request.content.decode()}</p>"),
        lambda request: httpx.Response(302, headers={"location": f"/?{request.content.decode()}"}),
        lambda request: raw('{"error": "Invalid API key ' + KEY + '"}'),
        lambda request: raw('{"error": "Not enough funds for key ' + KEY + '"}'),
        lambda request: raw('{"order": "' + KEY + '"}'),
    ],
)  # fmt: skip
def test_the_api_key_never_appears_in_an_error(handler):
    client = client_for(handler)
    with pytest.raises(ProviderError) as info:
        client.add(1, link="https://x.test/a", quantity=100)
    _key_free(info.value)


def test_the_api_key_is_not_in_the_client_repr():
    client = client_for(raising(httpx.ConnectError("x")))
    assert KEY not in repr(client) and URL in repr(client)


# --------------------------------------------------------------------------- real sockets


class _Canned(BaseHTTPRequestHandler):
    """Answers API v2 over real HTTP from a dict of canned replies; records what it got."""

    replies: dict[str, Any] = {}
    seen: list[tuple[str, str, dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.seen.append((self.path, self.headers["User-Agent"], form))
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/api/v2")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.replies.get(form.get("action", ""), '{"error": "Incorrect request"}')
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback(monkeypatch) -> Iterator[tuple[str, type[_Canned]]]:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)

    class Handler(_Canned):
        replies = {
            "balance": '{"balance": "100.84292", "currency": "USD"}',
            "services": SERVICES,
            "add": '{"order": 23501}',
            "status": '{"1": {"status": "Completed", "charge": "0.5"},'
            ' "2": {"error": "Incorrect order ID"}}',
        }
        seen = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_round_trip_over_a_real_loopback_server(loopback):
    base, handler = loopback
    with ProviderClient(f"{base}/api/v2", KEY) as client:
        assert client.balance() == RemoteBalance(Decimal("100.84292"), "USD")
        assert [s.service for s in client.services()] == [1, 2, 3, 4]
        assert client.add(1, link="https://x.test/a b&c", quantity=1000) == 23501
        assert client.statuses([1, 2]) == {
            1: RemoteStatus("Completed", charge=Decimal("0.5")),
            2: RemoteError("Incorrect order ID"),
        }
        with pytest.raises(ProviderRefused) as info:
            client.refill_status(1)
        assert info.value.message == "Incorrect request"
        with pytest.raises(ProviderTurnedAway) as moved:
            ProviderClient(f"{base}/moved", KEY).balance()
        assert moved.value.status_code == 302
    assert [path for path, _, _ in handler.seen] == ["/api/v2"] * 5 + ["/moved"]
    assert {agent for _, agent, _ in handler.seen} == {DEFAULT_USER_AGENT}
    assert handler.seen[2][2] == {
        "service": "1",
        "link": "https://x.test/a b&c",
        "quantity": "1000",
        "key": KEY,
        "action": "add",
    }


def test_a_closed_port_is_unreachable():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ProviderClient(f"http://127.0.0.1:{port}/api/v2", KEY)
    with client, pytest.raises(ProviderUnreachable) as info:
        client.add(1, link="https://x.test/a", quantity=100)
    assert info.value.may_have_reached is False
    _key_free(info.value)
