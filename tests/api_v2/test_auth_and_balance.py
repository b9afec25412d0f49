"""Authentication, the action switch, error shape, and `balance`."""

from __future__ import annotations

import pytest

from smmpanel.accounts.models import ApiKey, Customer
from smmpanel.accounts.services import api_key_create, api_key_revoke
from smmpanel.billing.services import customer_deposit
from tests.api_v2.conftest import LINK, err
from tests.factories import make_customer, make_service

ACTIONS = ["services", "add", "status", "refill", "refill_status", "cancel", "balance"]


@pytest.mark.django_db
@pytest.mark.parametrize("action", [*ACTIONS, "", "nonsense"])
def test_missing_key_is_invalid_api_key_for_every_action(api, action):
    response = api.client.post("/api/v2", {"action": action})
    assert api.decode(response) == err("Invalid API key")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
def test_wrong_key_is_invalid_api_key(api, me, action):
    for key in ("", "   ", "0" * 32, me.key[:-1], me.key + "0", "x" * 5000, "' OR 1=1 --"):
        assert api(key, action) == err("Invalid API key"), key


@pytest.mark.django_db
def test_a_key_in_another_case_is_invalid(api, me):
    assert api(me.key.upper(), "balance") == err("Invalid API key")
    assert api(me.key, "balance")["balance"] == "100.00000"


@pytest.mark.django_db
def test_revoked_key_is_invalid_and_a_second_key_works(api, me):
    row, second = api_key_create(customer=me.customer, label="bot")
    first = ApiKey.objects.exclude(pk=row.pk).get(customer=me.customer)
    api_key_revoke(api_key_id=first.pk)
    assert api(me.key, "balance") == err("Invalid API key")
    assert api(second, "balance") == {"balance": "100.00000", "currency": "USD"}


@pytest.mark.django_db
def test_key_of_a_deactivated_customer_is_invalid(api, me):
    Customer.objects.filter(pk=me.customer.pk).update(is_active=False)
    assert api(me.key, "balance") == err("Invalid API key")


@pytest.mark.django_db
def test_missing_action_is_incorrect_request(api, me):
    response = api.client.post("/api/v2", {"key": me.key})
    assert api.decode(response) == err("Incorrect request")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["", " ", "nonsense", "order", "services2", "balance;"])
def test_unknown_action_is_incorrect_request(me, action):
    assert me(action) == err("Incorrect request")


@pytest.mark.django_db
def test_the_key_is_checked_before_the_action(api):
    assert api("wrong", "nonsense") == err("Invalid API key")


@pytest.mark.django_db
def test_balance_shape(me):
    assert me("balance") == {"balance": "100.00000", "currency": "USD"}


@pytest.mark.django_db
def test_balance_has_five_places_and_follows_the_ledger(me):
    customer_deposit(customer_id=me.customer.pk, amount="0.84292", memo="top-up")
    assert me("balance") == {"balance": "100.84292", "currency": "USD"}
    service = make_service(rate="0.27819", min=1)
    me.add(service, link=LINK, quantity="1000")
    assert me("balance") == {"balance": "100.56473", "currency": "USD"}


@pytest.mark.django_db
def test_balance_of_an_empty_account(api):
    _, key = make_customer("0")
    assert api(key, "balance") == {"balance": "0.00000", "currency": "USD"}


@pytest.mark.django_db
def test_balance_is_per_customer(me, other):
    customer_deposit(customer_id=other.customer.pk, amount="5", memo="top-up")
    assert me("balance")["balance"] == "100.00000"
    assert other("balance")["balance"] == "105.00000"


@pytest.mark.django_db
def test_extra_unknown_parameters_are_ignored(me):
    service = make_service(rate="1.00")
    extra = {"foo": "bar", "callback": "x", "api_token": "y", "format": "xml", "lang": "ru"}
    assert me("balance", **extra) == {"balance": "100.00000", "currency": "USD"}
    assert [s["service"] for s in me("services", **extra)] == [service.pk]
    order = me.add(service, link=LINK, quantity="100", **extra)
    status = me("status", order=str(order), **extra)
    assert status["status"] == "Pending"
    assert me("cancel", orders=str(order), **extra) == [{"order": order, "cancel": 1}]
