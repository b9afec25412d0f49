"""The API slows down whoever hammers it: per key, per address, and wrong keys per address.
Over a limit the answer is `{"error": "Too many requests"}` (HTTP 200, as every answer) with
a Retry-After header; the next window lets the caller in again."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import redis
import time_machine
from django.core.cache import caches

from tests.factories import make_customer

pytestmark = pytest.mark.django_db

TOO_MANY = {"error": "Too many requests"}
START = dt.datetime(2026, 11, 30, 12, 0, 5, tzinfo=dt.UTC)


def post(client, key: str, address: str = "10.0.0.1", **extra):
    response = client.post(
        "/api/v2", {"key": key, "action": "balance"}, REMOTE_ADDR=address, **extra
    )
    assert response.status_code == 200
    return response, json.loads(response.content)


def test_wrong_keys_from_one_address_are_stopped_and_that_address_waits(client, settings):
    settings.API_RATE_BAD_KEYS = "5/60"
    _, key = make_customer()
    with time_machine.travel(START, tick=False):
        for i in range(5):
            assert post(client, f"wrong{i}")[1] == {"error": "Invalid API key"}
        response, body = post(client, "wrong-again")
        assert body == TOO_MANY
        assert 1 <= int(response["Retry-After"]) <= 60
        # Even a right key waits from there: guessing would otherwise go on between them.
        assert post(client, key)[1] == TOO_MANY
        # Another address is not held back by this one.
        assert "balance" in post(client, key, address="10.0.0.2")[1]
    with time_machine.travel(START + dt.timedelta(seconds=60), tick=False):
        assert "balance" in post(client, key)[1]


def test_one_key_is_limited_without_slowing_another(client, settings):
    settings.API_RATE_PER_KEY = "3/10"
    _, first = make_customer()
    _, second = make_customer()
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            assert "balance" in post(client, first)[1]
        response, body = post(client, first)
        assert body == TOO_MANY
        assert int(response["Retry-After"]) == 5  # the 10-second window started 5 s ago
        assert "balance" in post(client, second)[1]


def test_one_address_is_limited_whatever_keys_it_sends(client, settings):
    settings.API_RATE_PER_ADDRESS = "4/60"
    keys = [make_customer()[1] for _ in range(5)]
    with time_machine.travel(START, tick=False):
        assert all("balance" in post(client, key)[1] for key in keys[:4])
        assert post(client, keys[4])[1] == TOO_MANY
        assert "balance" in post(client, keys[4], address="10.0.0.9")[1]


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, settings):
    settings.API_RATE_PER_ADDRESS = "1/60"
    settings.PROXY_HOPS = 1
    _, key = make_customer()
    with time_machine.travel(START, tick=False):
        # A client cannot dodge the limit by sending its own X-Forwarded-For entries.
        for forged in ("1.1.1.1", "2.2.2.2"):
            header = f"{forged}, 203.0.113.7"
            body = post(client, key, address="127.0.0.1", HTTP_X_FORWARDED_FOR=header)[1]
            assert body == ({"error": "Too many requests"} if forged == "2.2.2.2" else body)
        assert (
            "balance"
            in post(client, key, address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")[1]
        )


def test_a_request_with_no_key_guesses_nothing(client, settings):
    settings.API_RATE_BAD_KEYS = "2/60"
    _, key = make_customer()
    for _ in range(5):
        assert post(client, "")[1] == {"error": "Invalid API key"}
    assert "balance" in post(client, key)[1]


def test_a_limit_of_zero_is_off(client, settings):
    settings.API_RATE_BAD_KEYS = "0"
    for i in range(40):
        assert post(client, f"wrong{i}")[1] == {"error": "Invalid API key"}


def test_a_cache_that_fails_lets_requests_through(client, settings):
    # Nothing listens on port 1: every count fails, and the API still answers.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.API_RATE_PER_KEY = "1/60"
    _, key = make_customer()
    for _ in range(3):
        assert "balance" in post(client, key)[1]


@pytest.fixture
def shared_cache(settings):
    """Django's Redis cache under a prefix of this test's own, removed afterwards."""
    prefix = f"smmpanel-test-{uuid.uuid4().hex}"
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    yield caches["default"]
    server = redis.Redis(host="127.0.0.1", port=6379)
    for name in server.scan_iter(f"{prefix}:*"):
        server.delete(name)


def test_with_redis_the_count_is_shared_by_every_process(client, settings, shared_cache):
    settings.API_RATE_PER_KEY = "2/60"
    _, key = make_customer()
    with time_machine.travel(START, tick=False):
        assert "balance" in post(client, key)[1]
        # Another web process counts into the same Redis key: here, a second count from
        # outside this request stack.
        counted = list(redis.Redis().scan_iter(f"{shared_cache.key_prefix}:*:rl:api-key:*"))
        assert len(counted) == 1
        redis.Redis().incr(counted[0])
        assert post(client, key)[1] == TOO_MANY
