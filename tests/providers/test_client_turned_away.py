"""A reply that did not come from the panel's API but from what stands in front of it (a
redirect, a proxy, a rate limiter, a load balancer, a CDN that could not reach the server):
the client says so with ProviderTurnedAway, a ProviderUnreachable — surely not processed —
and carries the Retry-After the reply asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from smmpanel.providers.client import (
    ProviderBadReply,
    ProviderClient,
    ProviderError,
    ProviderTurnedAway,
    ProviderUnreachable,
)

URL = "https://provider.test/api/v2"
KEY = "turned-away-key"


def add_fails_with(response: httpx.Response) -> ProviderError:
    client = ProviderClient(URL, KEY, transport=httpx.MockTransport(lambda request: response))
    with client, pytest.raises(ProviderError) as info:
        client.add(1, link="https://x.test/a", quantity=100)
    return info.value


@pytest.mark.parametrize(
    "status", [301, 302, 307, 308, 400, 401, 403, 404, 405, 408, 413, 429, 451, 521, 523, 525, 526]
)
def test_statuses_from_in_front_of_the_api_are_turned_away(status):
    exc = add_fails_with(httpx.Response(status, headers={"location": "/x"}, html="<h1>no</h1>"))
    assert type(exc) is ProviderTurnedAway
    assert isinstance(exc, ProviderUnreachable)
    assert exc.may_have_reached is False
    assert exc.status_code == status
    assert f"HTTP {status}" in str(exc)
    assert exc.retry_after is None


@pytest.mark.parametrize(
    "status",
    [
        500,  # the application failed: perhaps after creating the order
        502,  # the gateway got a bad answer from the application
        503,  # with no Retry-After: may come from the application itself
        504,  # the gateway gave up waiting for the application
        520,  # Cloudflare: the origin answered something unreadable
        522,  # Cloudflare: may time out after the request went through
        524,  # Cloudflare: the origin took the request and did not answer in time
        303,  # "see the result of what you posted": the POST was processed
        201,
    ],
)
def test_statuses_that_may_come_after_processing_are_bad_replies(status):
    exc = add_fails_with(httpx.Response(status, headers={"location": "/x"}, html="oops"))
    assert type(exc) is ProviderBadReply
    assert exc.may_have_reached is True
    assert exc.retry_after is None


def test_a_503_with_retry_after_is_a_load_balancer_turning_us_away():
    exc = add_fails_with(httpx.Response(503, headers={"retry-after": "120"}, html="Maintenance"))
    assert type(exc) is ProviderTurnedAway
    assert exc.retry_after == 120.0
    assert exc.may_have_reached is False


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        (" 45 ", 45.0),
        ("999999999999999999999", 86400.0),  # bounded
        ("-5", None),
        ("soon", None),
        ("1.5", None),
        ("", None),
    ],
)
def test_retry_after_in_seconds(header, seconds):
    exc = add_fails_with(httpx.Response(429, headers={"retry-after": header}))
    assert exc.retry_after == seconds


def test_retry_after_as_an_http_date():
    when = datetime.now(UTC) + timedelta(minutes=10)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    exc = add_fails_with(httpx.Response(429, headers={"retry-after": header}))
    assert exc.retry_after is not None and 598 <= exc.retry_after <= 600
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert add_fails_with(httpx.Response(429, headers={"retry-after": past})).retry_after == 0.0


def test_the_key_is_scrubbed_from_a_turned_away_message():
    exc = add_fails_with(httpx.Response(403, html=f"denied for {KEY}"))
    assert KEY not in str(exc) and "***" in str(exc)
