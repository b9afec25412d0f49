"""Domain refusals carry a code; the words API v2 clients match on are spelled by the code."""

from __future__ import annotations

import pytest

from smmpanel.core.errors import TEXTS, ErrorCode, PanelError
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place
from tests.api_v2.conftest import LINK, Caller, err
from tests.factories import make_service

C = ErrorCode

#: api-v2.md's exact strings, by code: a change here breaks clients in the field.
CONTRACT = {
    C.INVALID_KEY: "Invalid API key",
    C.INCORRECT_REQUEST: "Incorrect request",
    C.INCORRECT_SERVICE: "Incorrect service ID",
    C.BAD_LINK: "Bad link",
    C.QUANTITY_LESS: "Quantity less than minimal {min}",
    C.QUANTITY_MORE: "Quantity more than maximum {max}",
    C.NOT_ENOUGH_FUNDS: "Not enough funds on balance",
    C.ACTIVE_ORDER_LINK: (
        "You have active order with this link. Please wait until order being completed."
    ),
    C.INCORRECT_ORDER: "Incorrect order ID",
    C.REFILL_NOT_FOUND: "Refill not found",
}


def test_every_code_has_words_and_the_contract_ones_are_exact() -> None:
    assert set(TEXTS) == set(ErrorCode)
    assert {code: TEXTS[code] for code in CONTRACT} == CONTRACT


def test_a_refusal_names_its_code_and_field_and_the_reply_its_words(me: Caller) -> None:
    service = make_service(min=10, max=1000)
    assert me("add", service=service.pk, link=LINK, quantity="5") == err(
        "Quantity less than minimal 10"
    )
    with pytest.raises(PanelError) as caught:
        order_place(customer=me.customer, service_id=service.pk, params=OrderRequest(link=LINK))
    assert (caught.value.code, caught.value.field) == (C.MISSING_PARAMETER, "quantity")
    assert caught.value.message == "Missing required parameter: quantity"


def test_a_known_text_given_for_a_code_still_carries_the_code() -> None:
    assert PanelError("Order is already finished").code is C.CANCEL_FINISHED
    assert PanelError("The operator's own words").code is None
