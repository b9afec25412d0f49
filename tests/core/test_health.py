"""`/healthz` says 200 while the database (and a shared cache) answer, 503 naming the part
that does not; both failures are real ones: a database and a cache nobody listens for."""

from __future__ import annotations

import json

import pytest
import redis
from django.db import connection


def get(client):
    response = client.get("/healthz")
    return response.status_code, json.loads(response.content), response


@pytest.mark.django_db
def test_a_healthy_panel_answers_200(client):
    status, body, response = get(client)
    assert (status, body) == (200, {"status": "ok", "database": "ok"})
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_a_database_that_does_not_answer_is_503(client):
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/healthz.sqlite3"
    else:
        connection.settings_dict["PORT"] = 1  # nothing listens there
    try:
        status, body, _ = get(client)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert (status, body) == (503, {"status": "down", "database": "down"})
    assert get(client)[0] == 200


@pytest.mark.django_db
def test_a_shared_cache_is_checked_too(client, settings):
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": "smmpanel-test-healthz",
        }
    }
    assert get(client)[:2] == (200, {"status": "ok", "database": "ok", "cache": "ok"})
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert get(client)[:2] == (503, {"status": "down", "database": "ok", "cache": "down"})
