"""Hostile and broken API traffic (issue 13, items 6-10): whatever arrives, the reply is
HTTP 200 JSON with one `error` that names the problem; nothing is charged, and nothing
reaches the database that it cannot store."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smmpanel.api_v2.params import MAX_JSON_DEPTH, request_params
from smmpanel.catalog.models import ServiceType
from smmpanel.core.errors import PanelError
from smmpanel.core.parsing import text_problem
from smmpanel.orders.models import Order
from smmpanel.orders.validation import clean_link
from tests.api_v2.conftest import LINK, Caller
from tests.factories import Api, make_service
from tests.orders.helpers import params_for

T = ServiceType

BALANCE = {"balance": "100.00000", "currency": "USD"}
TOO_DEEP = {"error": f"Malformed JSON body: nested deeper than {MAX_JSON_DEPTH} levels"}


@pytest.fixture
def send(api: Api):
    """Post a raw body through Django's whole stack; an HTML 500 fails the decode."""

    def post(body: str | bytes, content_type: str = "application/json") -> object:
        response = api.client.post(
            "/api/v2", body, content_type=content_type, raise_request_exception=False
        )
        return api.decode(response)

    return post


def body(**raw: str) -> str:
    """A JSON object from parameter values given as raw JSON text."""
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in raw.items()) + "}"


def nested(depth: int, shape: str) -> str:
    """JSON text of `depth` nested lists or objects around a 1."""
    if shape == "list":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


# --- item 6: nesting at any depth --------------------------------------------------------

DEPTHS = [1, 2, 3, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 100, 500, 900]
DEPTHS += [990, 1000, 5000, 100_000]


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["list", "object"])
@pytest.mark.parametrize("depth", DEPTHS)
def test_a_nested_parameter_at_any_depth_gets_a_json_reply(send, me: Caller, depth, shape):
    for key in (me.key, "wrong"):
        reply = send(body(key=json.dumps(key), action='"balance"', extra=nested(depth, shape)))
        if depth >= MAX_JSON_DEPTH:  # the value sits one level inside the body's object
            assert reply == TOO_DEEP, (depth, key)
        elif key == me.key:
            assert reply == BALANCE, depth  # an unknown parameter is ignored, however shaped
        else:
            assert reply == {"error": "Invalid API key"}, depth


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["list", "object"])
@pytest.mark.parametrize("name", ["action", "orders", "link", "comments"])
def test_nesting_in_a_parameter_the_panel_reads_is_refused_before_the_key(send, name, shape):
    # The reproduction: 900 levels under a parameter, and no valid key at all.
    reply = send(body(**{"key": '"nope"', "action": '"add"', name: nested(900, shape)}))
    assert reply == TOO_DEEP


@pytest.mark.django_db
def test_brackets_inside_strings_are_not_nesting(send, me: Caller):
    looks_deep = '[{"\\"' * 5000
    text = json.dumps({"key": me.key, "action": "balance", "note": looks_deep, "x": [[1]]})
    assert send(text) == BALANCE


@pytest.mark.django_db
def test_unbalanced_brackets_are_malformed(send):
    for text in ('{"key": "k", "x": ' + "[" * 50_000, '{"key": "k", "x": [}]}', "]" * 1000):
        reply = send(text)
        assert set(reply) == {"error"} and reply["error"].startswith("Malformed JSON"), text[:30]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=60,
)


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(extra=JSON_VALUES, depth=st.integers(0, 3000), name=st.sampled_from(["x", "orders"]))
def test_any_json_value_at_any_depth_is_answered_in_json(send, me: Caller, extra, depth, name):
    value = "[" * depth + json.dumps(extra) + "]" * depth
    reply = send(body(key=json.dumps(me.key), action='"status"', **{name: value}))
    assert isinstance(reply, dict)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


def wrapped(value: object, wrap: str) -> object:
    if wrap == "list":
        return [value]
    if wrap == "object":
        return {"k": value}
    return [1, {"k": value}, []]


@settings(max_examples=300, deadline=None)
@given(
    inner=JSON_VALUES,
    wraps=st.lists(st.sampled_from(["list", "object", "both"]), max_size=MAX_JSON_DEPTH + 8),
)
def test_the_depth_limit_is_exact_for_any_shape(inner, wraps):
    value = inner
    for wrap in wraps:
        value = wrapped(value, wrap)
    request = RequestFactory().post(
        "/api/v2", json.dumps({"x": value}), content_type="application/json"
    )
    try:
        request_params(request)
        refused = False
    except PanelError as exc:
        assert exc.message == TOO_DEEP["error"]
        refused = True
    assert refused == (depth_of({"x": value}) > MAX_JSON_DEPTH)


# --- item 7: text no database can store ---------------------------------------------------

#: What a JSON body may carry that is not storable text: lone UTF-16 surrogates (a JS
#: client cutting an emoji in half sends "\ud83d") and NUL, which PostgreSQL refuses.
UNSTORABLE = {"lone surrogate": "\ud800", "half an emoji": "\ud83d", "low half": "\ude00"}
UNSTORABLE["NUL"] = "\x00"
TEXT_PARAMETERS = ["link", "comments", "usernames", "hashtags", "hashtag", "username"]
TEXT_PARAMETERS += ["media", "answer_number", "groups"]


def spoiled(value: str, bad: str) -> list[str]:
    """`value` with `bad` inside its first word (or line, for the lists), and at its end."""
    return [value[:2] + bad + value[2:], value + bad]


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", list(T), ids=lambda t: t.value)
def test_unstorable_text_in_any_text_parameter_is_refused_by_name(
    send, me: Caller, service_type, caplog
):
    service = make_service(type=service_type, rate="1.00", min=1)
    params = {"key": me.key, "action": "add", "service": str(service.pk)}
    params |= params_for(service_type)
    names = [n for n in TEXT_PARAMETERS if n in params]
    assert names
    for name in names:
        for what, bad in UNSTORABLE.items():
            for value in spoiled(params[name], bad):
                reply = send(json.dumps({**params, name: value}))
                if name == "link":
                    assert reply == {"error": "Bad link"}, (value, what)
                else:
                    assert set(reply) == {"error"}, (name, what)
                    assert reply["error"].startswith(f"Invalid {name}: "), (name, value, reply)
    assert me.order_count() == 0
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


@pytest.mark.django_db
def test_unstorable_text_in_a_form_is_refused_by_name(me: Caller):
    service = make_service(type=T.COMMENT_REPLIES, rate="1.00", min=1)
    params = {"service": str(service.pk), **params_for(T.COMMENT_REPLIES)}
    for name in ("link", "username", "comments"):
        for value in spoiled(params[name], "\x00"):
            reply = me("add", **{**params, name: value})
            named = "Bad link" if name == "link" else f"Invalid {name}: "
            assert set(reply) == {"error"} and reply["error"].startswith(named), (name, reply)
    assert me.order_count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("what", list(UNSTORABLE))
def test_unstorable_text_where_an_id_number_or_date_belongs(send, me: Caller, what):
    bad = UNSTORABLE[what]
    service = make_service(rate="1.00", min=1)
    sub = make_service(type=T.SUBSCRIPTIONS, rate="1.00", min=1)
    call = lambda **p: send(json.dumps({"key": me.key, **p}))  # noqa: E731
    assert call(action="balance" + bad) == {"error": "Incorrect request"}
    assert send(json.dumps({"key": me.key + bad, "action": "balance"})) == {
        "error": "Invalid API key"
    }
    assert call(action="status", order="1" + bad) == {"error": "Incorrect order ID"}
    assert call(action="status", orders=f"1{bad},2") == {
        f"1{bad}": {"error": "Incorrect order ID"},
        "2": {"error": "Incorrect order ID"},
    }
    assert call(action="refill_status", refill=bad) == {"error": "Refill not found"}
    add = {"action": "add", "service": str(service.pk), "link": LINK, "quantity": "100"}
    assert call(**{**add, "service": "1" + bad}) == {"error": "Incorrect service ID"}
    for name in ("quantity", "runs", "interval"):
        reply = call(**{**add, "runs": "2", "interval": "5", name: "5" + bad})
        assert set(reply) == {"error"} and name in reply["error"], (name, reply)
    subscribe = {"action": "add", "service": str(sub.pk), **params_for(T.SUBSCRIPTIONS)}
    for name in ("min", "max", "delay", "posts", "old_posts", "expiry"):
        reply = call(**{**subscribe, name: "1" + bad})
        assert set(reply) == {"error"} and name in reply["error"], (name, reply)
    assert me.order_count() == 0


# --- item 8: a link is a link -------------------------------------------------------------

GARBAGE_LINKS = [
    "<script>alert(1)</script>",
    "https://instagram.com/p/<script>alert(1)</script>",
    'https://instagram.com/p/x"onmouseover="alert(1)',
    "https://instagram.com/p/x>",
    "\ufffd\ufffd\ufffd",
    "https://instagram.com/p/\ufffd\ufffd",
    "https://\ufffd.com/p",
    "just some words",
    "https://",
    "https:///p/abc",
    "https://.com/p",
    "https://instagram..com/p",
    "https://-/p",
    "https://instagram.com:99999/p",
    "https://user:password@instagram.com/p",
    "https://instagram.com/p/\u200babc",  # a zero-width space pasted along
    "https://instagram.com/\u202ep/abc",  # a right-to-left override
    "instagram/p/abc",
    "instagram.com p/abc",
    "//instagram.com/p/abc",
    "http:instagram.com",
    "https:/instagram.com/p",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "@",
    "@bob smith",
    "@<b>",
    "!!!",
    "...",
    "https://instagram.com/" + "p" * 1990,
]
GOOD_LINKS = [
    "https://www.instagram.com/p/Cx1/",
    "https://www.tiktok.com/@some.user/video/7234567890123456789?lang=en",
    "https://t.me/+AbCdEf12345",
    "https://youtu.be/dQw4w9WgXcQ?si=abc&t=42#comments",
    "https://vk.com/wall-1_2",
    "https://пример.рф/путь/страница",
    "https://xn--e1afmkfd.xn--p1ai/p",
    "http://127.0.0.1:8080/p/1",
    "https://e.x/d1",
    "HTTPS://YOUTUBE.COM/watch?v=abc&t=1",
    "instagram.com/some.account",
    "www.instagram.com/p/abc?igsh=1",
    "example.com:8080/page",
    "t.me/channel",
    "@some.account",
    "@user_name-1",
    "some.account",
    "bob",
    "https://instagram.com/" + "p" * (2000 - len("https://instagram.com/")),
]


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", [t for t in T if t != T.SUBSCRIPTIONS])
def test_garbage_links_are_bad_links_and_charge_nothing(send, me: Caller, service_type):
    service = make_service(type=service_type, rate="1.00", min=1)
    params = {"key": me.key, "action": "add", "service": str(service.pk)}
    params |= params_for(service_type)
    for link in GARBAGE_LINKS:
        reply = send(json.dumps({**params, "link": link}))
        assert reply == {"error": "Bad link"}, link
    assert me.order_count() == 0
    assert me.balance() == 100


@pytest.mark.django_db
def test_a_link_of_bytes_that_are_not_utf8_is_a_bad_link(send, me: Caller):
    service = make_service(rate="1.00", min=1)
    form = f"key={me.key}&action=add&service={service.pk}&quantity=100&link="
    # Percent-escaped bytes that are not UTF-8 arrive as U+FFFD. (Raw bytes in a form
    # body are read as Latin-1 by Django: letters, indistinguishable from a name.)
    for link in (b"%ff%fe%fd", b"https://instagram.com/p/%e9t%e9"):
        reply = send(form.encode() + link, "application/x-www-form-urlencoded")
        assert reply == {"error": "Bad link"}, link
    assert me.order_count() == 0


@pytest.mark.django_db
def test_links_real_customers_paste_are_accepted_as_given(me: Caller):
    service = make_service(rate="1.00", min=1)
    for link in GOOD_LINKS:
        order = me.add(service, link=link, quantity="100")
        assert Order.objects.get(pk=order).link == link  # stored as given, not normalised


BAD_USERNAMES = ["<script>alert(1)</script>", "bob smith", "\ufffd\ufffd", "bob<", 'bo"b', "@"]
BAD_USERNAMES += ["b" * 301]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "service_type",
    [T.MENTIONS_USER_FOLLOWERS, T.COMMENT_LIKES, T.COMMENT_REPLIES, T.SUBSCRIPTIONS],
)
def test_a_username_must_be_a_username(me: Caller, service_type):
    service = make_service(type=service_type, rate="1.00", min=1)
    params = params_for(service_type)
    for username in BAD_USERNAMES:
        reply = me("add", service=str(service.pk), **{**params, "username": username})
        assert set(reply) == {"error"}, username
        assert reply["error"].startswith("Invalid username: "), (username, reply)
    assert me.order_count() == 0
    good = ["alice", "@alice", "al.ice_99", "https://instagram.com/alice", "instagram.com/alice"]
    for n, username in enumerate(good):
        link = f"{LINK}/{n}"
        me.add(service, **{**params, "link": link, "username": username})
    stored = Order.objects.filter(customer_id=me.customer.pk).values_list("username", flat=True)
    assert sorted(stored) == sorted(good)


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", [T.MENTIONS_WITH_HASHTAGS, T.MENTIONS_CUSTOM_LIST])
def test_every_line_of_usernames_must_be_a_username(me: Caller, service_type):
    service = make_service(type=service_type, rate="1.00", min=1)
    params = params_for(service_type)
    for bad in BAD_USERNAMES:
        reply = me("add", service=str(service.pk), **{**params, "usernames": f"alice\n{bad}\nb"})
        assert set(reply) == {"error"}, bad
        if text_problem(bad) is None:
            assert reply["error"].startswith("Invalid usernames: line 2 "), (bad, reply)
        else:
            assert reply["error"].startswith("Invalid usernames: "), (bad, reply)
    assert me.order_count() == 0
    me.add(service, **{**params, "usernames": "@alice\r\n\r\nbob.b\ncarol_c\n"})


@pytest.mark.django_db
def test_media_must_be_a_link(me: Caller):
    service = make_service(type=T.MENTIONS_MEDIA_LIKERS, rate="1.00", min=1)
    params = params_for(T.MENTIONS_MEDIA_LIKERS)
    for media in ("<script>alert(1)</script>", "\ufffd", "not a link", "javascript:alert(1)"):
        reply = me("add", service=str(service.pk), **{**params, "media": media})
        assert set(reply) == {"error"} and reply["error"].startswith("Invalid media: "), reply
    assert me.order_count() == 0


@settings(max_examples=500)
@given(st.text(st.characters(exclude_categories=())) | st.sampled_from(GARBAGE_LINKS + GOOD_LINKS))
def test_a_link_is_either_refused_as_bad_or_plain_printable_text(text):
    try:
        link = clean_link(text)
    except PanelError as exc:
        assert exc.message == "Bad link"
        return
    assert 0 < len(link) <= 2000 and link == text.strip()
    link.encode("utf-8")
    assert not any(ch.isspace() or not ch.isprintable() or ch in '<>"\\`\ufffd' for ch in link)


# --- item 9: only a string key authenticates ----------------------------------------------


@pytest.mark.django_db
def test_a_key_that_is_not_a_json_string_is_invalid(send, me: Caller):
    for key in ([me.key], [me.key, me.key], [[me.key]], {"key": me.key}, [me.key, "x"]):
        reply = send(json.dumps({"key": key, "action": "balance"}))
        assert reply == {"error": "Invalid API key"}, key
    for raw in ("null", "true", "1", "1.5", "[]"):
        assert send(body(key=raw, action='"balance"')) == {"error": "Invalid API key"}, raw


@pytest.mark.django_db
def test_a_list_key_in_the_body_does_not_fall_back_to_the_query_string(api: Api, me: Caller):
    response = api.client.post(
        f"/api/v2?key={me.key}",
        json.dumps({"key": [me.key], "action": "balance"}),
        content_type="application/json",
    )
    assert api.decode(response) == {"error": "Invalid API key"}


@pytest.mark.django_db
def test_a_string_key_still_authenticates_in_json(send, me: Caller):
    assert send(json.dumps({"key": me.key, "action": "balance"})) == BALANCE
    assert send(json.dumps({"key": f" {me.key} ", "action": ["balance"]})) == BALANCE


@pytest.mark.django_db
def test_a_defect_while_reading_the_request_is_still_a_json_error(send, monkeypatch, caplog):
    def broken(request: object) -> None:
        raise RuntimeError("a defect")

    monkeypatch.setattr("smmpanel.api_v2.views.request_params", broken)
    assert send(json.dumps({"key": "k", "action": "balance"})) == {
        "error": "Internal error, please try again later"
    }
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)
