"""Wrong passwords are not guessed forever: after LOGIN_FAILURE_LIMIT failures for one name
from one address, that pair is locked out for a while — the right password included."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model

from tests.factories import make_customer

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
PASSWORD = "the right one, long enough"


@pytest.fixture
def staff():
    return get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)


def admin_login(client, password: str, address: str = "10.1.1.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "boss", "password": password},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_staff_login_locks_after_the_limit_and_opens_after_the_cool_off(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 5
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            assert admin_login(client, "guess").status_code == 200
        # The fifth failure locks the pair at once.
        assert admin_login(client, "guess").status_code == 429
        locked = admin_login(client, PASSWORD)
        assert locked.status_code == 429
        assert "Too many failed logins" in locked.content.decode()
        assert not logged_in(client)
        # The same name from elsewhere is not locked by this address's guesses.
        assert admin_login(client, PASSWORD, address="10.1.1.2").status_code == 302
        client.logout()
    with time_machine.travel(START + dt.timedelta(minutes=31), tick=False):
        assert admin_login(client, PASSWORD).status_code == 302
        assert logged_in(client)


def test_a_right_password_before_the_limit_clears_the_count(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        admin_login(client, "guess")
    assert admin_login(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        admin_login(client, "guess")
    assert admin_login(client, PASSWORD).status_code == 302


def test_customer_logins_on_the_pages_lock_too(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    customer, _ = make_customer(username="erin")
    customer.user.set_password(PASSWORD)
    customer.user.save()
    for _ in range(3):
        client.post("/accounts/login/", {"login": "erin", "password": "guess"})
    locked = client.post("/accounts/login/", {"login": "erin", "password": PASSWORD})
    assert locked.status_code == 429
    assert not logged_in(client)
