"""Refill calls with no `action` (issue 13, item 12).

The example API class many panels publish, copied into resellers' scripts, sends `refill`,
multi-refill, `refill_status` and multi-refill-status without `action`: `key` + `order` /
`orders` for a refill, `key` + `refill` / `refills` for its status. They are answered over
real HTTP in every encoding, with the exact shapes of the actions they stand for."""

from __future__ import annotations

import httpx
import pytest

from smmpanel.orders.models import Order, Refill
from smmpanel.orders.services import order_transition
from smmpanel.orders.states import OrderStatus
from tests.api_v2.conftest import LINK, decode
from tests.factories import make_service

pytestmark = pytest.mark.django_db(transaction=True)


def sends(http: httpx.Client):
    """The same parameters as each client encodes them (the PHP class posts a form)."""
    return {
        "form": lambda p: http.post("/api/v2", data=p),
        "json": lambda p: http.post("/api/v2/", json=p),
        "get": lambda p: http.get("/api/v2", params=p),
        "multipart": lambda p: http.post("/api/v2", files={k: (None, v) for k, v in p.items()}),
    }


def completed_orders(http: httpx.Client, key: str, count: int) -> list[int]:
    service = make_service(rate="1.00", refill=True)
    ids = []
    for n in range(count):
        data = {"key": key, "action": "add", "service": str(service.pk), "quantity": "100"}
        order = decode(http.post("/api/v2", data={**data, "link": f"{LINK}/{n}"}))["order"]
        order_transition(order_id=order, to=OrderStatus.COMPLETED, actor="test")
        ids.append(order)
    return ids


def test_order_without_action_is_a_refill(http, key):
    for name, send in sends(http).items():
        [order] = completed_orders(http, key, 1)
        reply = decode(send({"key": key, "order": str(order)}))
        refill = Refill.objects.get(order_id=order)
        assert reply == {"refill": str(refill.pk)}, name  # a string, as `action=refill` answers
        # The same order again: the refill action's own refusal, word for word.
        again = decode(send({"key": key, "order": str(order)}))
        assert again == {"error": "A refill is already in progress for this order"}, name


def test_orders_without_action_is_a_multi_refill(http, key):
    for name, send in sends(http).items():
        first, second = completed_orders(http, key, 2)
        reply = decode(send({"key": key, "orders": f"{first},999999,{second}"}))
        refills = dict(
            Refill.objects.filter(order_id__in=[first, second]).values_list("order_id", "id")
        )
        assert reply == [
            {"order": first, "refill": refills[first]},
            {"order": 999999, "refill": {"error": "Incorrect order ID"}},
            {"order": second, "refill": refills[second]},
        ], name


def test_refill_without_action_is_a_refill_status(http, key):
    [order] = completed_orders(http, key, 1)
    refill = decode(http.post("/api/v2", data={"key": key, "order": str(order)}))["refill"]
    for name, send in sends(http).items():
        assert decode(send({"key": key, "refill": refill})) == {"status": "Pending"}, name
        assert decode(send({"key": key, "refill": "999999"})) == {"error": "Refill not found"}, name


def test_refills_without_action_is_a_multi_refill_status(http, key):
    first, second = completed_orders(http, key, 2)
    ids = [
        decode(http.post("/api/v2", data={"key": key, "order": str(o)}))["refill"]
        for o in (first, second)
    ]
    for name, send in sends(http).items():
        reply = decode(send({"key": key, "refills": f"{ids[0]}, 999999,{ids[1]}"}))
        assert reply == [
            {"refill": int(ids[0]), "status": "Pending"},
            {"refill": 999999, "status": {"error": "Refill not found"}},
            {"refill": int(ids[1]), "status": "Pending"},
        ], name


def test_an_empty_action_counts_as_none(http, key):
    [order] = completed_orders(http, key, 1)
    reply = decode(http.post("/api/v2", data={"key": key, "action": " ", "order": str(order)}))
    assert set(reply) == {"refill"}


def test_what_is_not_one_of_those_calls_is_still_an_incorrect_request(http, key):
    [order] = completed_orders(http, key, 1)
    service = make_service(rate="1.00")
    incorrect = {"error": "Incorrect request"}
    post = lambda **data: decode(http.post("/api/v2", data={"key": key, **data}))  # noqa: E731
    assert post() == incorrect
    # With a service it would be an `add` that forgot its action: not a refill.
    assert post(order=str(order), service=str(service.pk), link=LINK) == incorrect
    # Both an order and a refill: which call it is cannot be told.
    assert post(order=str(order), refill="1") == incorrect
    assert post(orders=str(order), refills="1") == incorrect
    # An action that is named but unknown stays unknown.
    assert post(action="nonsense", order=str(order)) == incorrect
    assert post(link=LINK, quantity="100") == incorrect
    assert not Refill.objects.exists()
    assert Order.objects.count() == 1


def test_the_key_is_still_checked_first(http, key):
    [order] = completed_orders(http, key, 1)
    reply = decode(http.post("/api/v2", data={"key": "wrong", "order": str(order)}))
    assert reply == {"error": "Invalid API key"}
    assert not Refill.objects.exists()


def test_the_api_page_documents_calls_without_action(http):
    page = http.get("/api").text
    assert "without <code>action</code>" in page
    for name in ("order", "orders", "refill", "refills"):
        assert f"<code>{name}</code>" in page
