"""Transport over real HTTP: every encoding clients use, both paths, garbage bodies.

Every reply must be HTTP 200, `Content-Type: application/json`, no redirect, no BOM.
(Few, broad tests: each live-server test flushes the database when it ends.)"""

from __future__ import annotations

import json

import pytest

from smmpanel.orders.models import Order
from tests.api_v2.conftest import LINK, decode
from tests.factories import make_service

pytestmark = pytest.mark.django_db(transaction=True)

IE = "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)"
BALANCE = {"balance": "100.00000", "currency": "USD"}
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def service(transactional_db):
    return make_service(rate="0.90", min=10, max=10000)


def encodings(path: str, key: str) -> dict[str, tuple[str, str, dict]]:
    """name -> (method, url, httpx keyword arguments): `balance` sent every way clients do."""
    params = {"key": key, "action": "balance"}
    as_json = json.dumps(params).encode()

    def raw(content_type: str | None, body: bytes = as_json) -> dict:
        return {"content": body, "headers": {"content-type": content_type} if content_type else {}}

    return {
        "form": ("POST", path, {"data": params}),
        "multipart": ("POST", path, {"files": {k: (None, v) for k, v in params.items()}}),
        "json": ("POST", path, {"json": params}),
        "get": ("GET", path, {"params": params}),
        "json, no content type": ("POST", path, raw(None)),
        "json as text/plain": ("POST", path, raw("text/plain")),
        "json with charset": ("POST", path, raw("application/json; charset=utf-8")),
        "json as text/json": ("POST", path, raw("text/json")),
        # PHP: CURLOPT_POSTFIELDS => json_encode($data) with no header set; curl labels the
        # body application/x-www-form-urlencoded.
        "json labelled as a form (PHP curl)": ("POST", path, raw(FORM)),
        "json with a BOM": ("POST", path, raw("application/json", b"\xef\xbb\xbf" + as_json)),
        "key in the query, action in the body": (
            "POST",
            f"{path}?key={key}",
            {"data": {"action": "balance"}},
        ),
        "Internet Explorer": ("POST", path, {"data": params, "headers": {"user-agent": IE}}),
        "no user agent": ("POST", path, {"data": params, "headers": {"user-agent": ""}}),
    }


def test_every_encoding_on_both_paths(http, key):
    for path in ("/api/v2", "/api/v2/"):
        for name, (method, url, kwargs) in encodings(path, key).items():
            response = http.request(method, url, **kwargs)
            assert response.status_code == 200, (path, name)  # not a redirect
            assert decode(response, name) == BALANCE, (path, name)
    multipart = http.post("/api/v2", files={"key": (None, key), "action": (None, "balance")})
    assert multipart.request.headers["content-type"].startswith("multipart/form-data")


def test_add_over_every_encoding_places_an_order(http, key, service):
    params = {"key": key, "action": "add", "service": str(service.pk), "quantity": "100"}
    sends = [
        lambda p: http.post("/api/v2", data=p),
        lambda p: http.post("/api/v2/", files={k: (None, v) for k, v in p.items()}),
        lambda p: http.post("/api/v2", json=p),
        lambda p: http.get("/api/v2/", params=p),
        # A JSON body keeps numbers as numbers.
        lambda p: http.post("/api/v2", json={**p, "service": service.pk, "quantity": 100}),
        lambda p: http.post("/api/v2", json={**p, "service": float(service.pk), "quantity": 1e2}),
    ]
    ids = []
    for n, send in enumerate(sends):
        reply = decode(send({**params, "link": f"{LINK}/{n}"}), n)
        assert set(reply) == {"order"} and type(reply["order"]) is int, (n, reply)
        ids.append(reply["order"])
    assert Order.objects.filter(quantity=100, service=service).count() == len(sends)
    balance = decode(http.post("/api/v2", data={"key": key, "action": "balance"}))
    assert balance == {"balance": "99.46000", "currency": "USD"}

    # Ids echoed back as JSON floats, single and as a list.
    first = float(ids[0])
    reply = decode(http.post("/api/v2", json={"key": key, "action": "status", "order": first}))
    assert reply["charge"] == "0.09000"
    reply = decode(
        http.post("/api/v2", json={"key": key, "action": "status", "orders": [first, 1e9]})
    )
    assert list(reply) == [repr(first), "1000000000.0"]
    assert reply[repr(first)]["status"] == "Pending"
    assert reply["1000000000.0"] == {"error": "Incorrect order ID"}


def test_url_encoded_commas_and_spaces(http, key, service):
    ids = []
    for n in range(3):
        data = {"key": key, "action": "add", "service": str(service.pk), "quantity": "100"}
        ids.append(decode(http.post("/api/v2", data={**data, "link": f"{LINK}/{n}"}))["order"])
    a, b, c = ids
    expected = [str(a), str(b), str(c)]
    response = http.get(f"/api/v2?key={key}&action=status&orders={a}%2C{b}%2C{c}")
    assert response.request.url.raw_path.endswith(f"orders={a}%2C{b}%2C{c}".encode())
    assert list(decode(response)) == expected
    response = http.get(f"/api/v2?key={key}&action=status&orders={a},%20{b},+{c}")
    assert list(decode(response)) == expected
    body = f"key={key}&action=status&orders={a}%2C{b}%2C{c}"
    response = http.post("/api/v2", content=body, headers={"content-type": FORM})
    assert list(decode(response)) == expected
    body = f"key={key}&action=cancel&orders={a}%2C%20{b}"
    response = http.post("/api/v2/", content=body, headers={"content-type": FORM})
    assert decode(response) == [{"order": a, "cancel": 1}, {"order": b, "cancel": 1}]


def test_errors_and_every_shape_over_http(http, key, service):
    post = lambda path="/api/v2", **data: decode(http.post(path, data=data), data)  # noqa: E731
    assert post(key="nope", action="balance") == {"error": "Invalid API key"}
    assert post("/api/v2/", key=key, action="nope") == {"error": "Incorrect request"}
    assert decode(http.get("/api/v2")) == {"error": "Invalid API key"}
    assert decode(http.get("/api/v2/")) == {"error": "Invalid API key"}
    services = post(key=key, action="services")
    assert isinstance(services, list) and services[0]["rate"] == "0.90"
    assert post(key=key, action="cancel", order="5") == [
        {"order": 5, "cancel": {"error": "Incorrect order ID"}}
    ]
    assert post(key=key, action="status", order="5") == {"error": "Incorrect order ID"}
    assert post(key=key, action="refill", order="5") == {"error": "Incorrect order ID"}
    assert post(key=key, action="refill_status", refill="5") == {"error": "Refill not found"}
    assert post(key=key, action="refill_status", refills="5") == [
        {"refill": 5, "status": {"error": "Refill not found"}}
    ]
    for method in ("PUT", "PATCH", "DELETE", "OPTIONS"):
        reply = decode(http.request(method, f"/api/v2?key={key}&action=balance"), method)
        assert reply == BALANCE, method
    head = http.head(f"/api/v2?key={key}&action=balance")
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/json"


GARBAGE = {
    "malformed json": ("application/json", b'{"key": "abc", "action": '),
    "json list": ("application/json", b'[{"key": "abc"}, 1, 2]'),
    "json string": ("application/json", b'"balance"'),
    "json number": ("application/json", b"12345"),
    "json null": ("application/json", b"null"),
    "empty json": ("application/json", b""),
    "deeply nested json": ("application/json", b"[" * 100_000 + b"]" * 100_000),
    "deeply nested json object": ("application/json", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    "deeply nested json as a form": (FORM, b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    "json not utf-8": ("application/json", b'{"key": "\xff\xfe"}'),
    "binary": ("application/octet-stream", bytes(range(256)) * 4),
    "text": ("text/plain", b"hello there"),
    "brace text": ("text/plain", b"{not json at all"),
    "form not utf-8": (FORM, b"key=\xff\xfe&action=\xc3"),
    "form with a bad charset": (f"{FORM}; charset=bogus-9", b"key=a&action=balance"),
    "multipart without boundary": ("multipart/form-data", b"--x\r\nhello\r\n--x--\r\n"),
    "multipart with a wrong boundary": (
        "multipart/form-data; boundary=abc",
        b'--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--xyz--\r\n',
    ),
    "multipart truncated": (
        "multipart/form-data; boundary=abc",
        b'--abc\r\nContent-Disposition: form-data; name="key"\r\n\r\nk',
    ),
    "multipart garbage": ("multipart/form-data; boundary=abc", bytes(range(256)) * 8),
    "multipart overlong boundary": ("multipart/form-data; boundary=" + "a" * 300, b"--a\r\n"),
    "xml": ("text/xml", b"<?xml version='1.0'?><key>abc</key>"),
    "multipart with too many files": (
        "multipart/form-data; boundary=b",
        b"".join(
            b'--b\r\nContent-Disposition: form-data; name="f%d"; filename="f%d.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nx\r\n" % (n, n)
            for n in range(150)
        )
        + b"--b--\r\n",
    ),
}


def test_garbage_bodies_are_json_errors(http, key):
    for name, (content_type, body) in GARBAGE.items():
        for path in ("/api/v2", "/api/v2/"):
            response = http.post(path, content=body, headers={"content-type": content_type})
            reply = decode(response, name)
            assert isinstance(reply, dict) and set(reply) == {"error"}, (name, reply)
            assert isinstance(reply["error"], str) and reply["error"], name
    # An unreadable body is an error, never a silent success on the query string's key.
    response = http.post(
        f"/api/v2?key={key}&action=balance",
        content=b"[1, 2",
        headers={"content-type": "application/json"},
    )
    assert set(decode(response)) == {"error"}
    # More fields than Django reads, in a body or a query string.
    body = "&".join([f"key={key}", "action=balance"] + [f"f{n}=1" for n in range(1200)])
    response = http.post("/api/v2", content=body, headers={"content-type": FORM})
    assert set(decode(response, "too many fields")) == {"error"}
    assert set(decode(http.get(f"/api/v2?{body}"), "too many fields")) == {"error"}


def test_huge_bodies_are_json_errors(http, key):
    filler = b"x" * (3 * 1024 * 1024)
    bodies = {
        FORM: f"key={key}&action=balance&pad=".encode() + filler,
        "application/json": json.dumps(
            {"key": key, "action": "balance", "pad": filler.decode()}
        ).encode(),
        "multipart/form-data; boundary=b": (
            b'--b\r\nContent-Disposition: form-data; name="key"\r\n\r\n'
            + key.encode()
            + b'\r\n--b\r\nContent-Disposition: form-data; name="pad"\r\n\r\n'
            + filler
            + b"\r\n--b--\r\n"
        ),
    }
    for content_type, body in bodies.items():
        response = http.post("/api/v2", content=body, headers={"content-type": content_type})
        assert set(decode(response, content_type)) == {"error"}, content_type
    # The server is still answering.
    assert decode(http.post("/api/v2", data={"key": key, "action": "balance"})) == BALANCE
