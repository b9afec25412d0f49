"""Running calls at the same moment: from threads released together by a barrier, either
straight into the services (each thread its own database connection) or over real HTTP."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from django.db import connection

BARRIER_TIMEOUT = 30


def race(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released at once; returns each result or the
    exception it raised, in order. Each thread closes its database connection when done."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            return call()
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def post_all(url: str, bodies: Sequence[dict[str, str]]) -> list[Any]:
    """POST each form body to `url` from its own httpx client, all released together;
    returns the decoded JSON replies, checking the transport rules on each.

    The test server listens with a backlog of 10, so 50 connections opened at once get
    reset. Each client therefore connects first, one at a time (a keep-alive request that
    touches no data), and the barrier then releases the real requests on open connections.
    """
    barrier = threading.Barrier(len(bodies))
    connecting = threading.Lock()
    tls = ssl.create_default_context()  # built once: each client would spend 40 ms on it

    def send(body: dict[str, str]) -> Any:
        with httpx.Client(timeout=30, follow_redirects=False, verify=tls) as client:
            with connecting:
                warm = client.post(url, data={"action": "balance"})
                assert warm.json() == {"error": "Invalid API key"}
            barrier.wait(timeout=BARRIER_TIMEOUT)
            response = client.post(url, data=body)
        assert response.status_code == 200, response.text[:500]
        assert response.headers["content-type"] == "application/json"
        return json.loads(response.content)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))
