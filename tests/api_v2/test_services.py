"""`services`: the catalog as this customer sees it, in the exact wire shape."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smmpanel.accounts.models import Customer, CustomerRate
from smmpanel.catalog.models import Category, ServiceType
from tests.api_v2.conftest import LINK
from tests.factories import make_service


@pytest.mark.django_db
def test_services_exact_shape(me):
    category = Category.objects.create(name="First Category")
    service = make_service(
        name="Followers",
        category=category,
        rate="0.90",
        min=50,
        max=10000,
        refill=True,
        cancel=True,
        dripfeed=False,
    )
    assert me("services") == [
        {
            "service": service.pk,
            "name": "Followers",
            "type": "Default",
            "category": "First Category",
            "rate": "0.90",
            "min": "50",
            "max": "10000",
            "refill": True,
            "cancel": True,
            "dripfeed": False,
        }
    ]


@pytest.mark.django_db
def test_services_is_a_list_even_when_empty(me):
    assert me("services") == []


@pytest.mark.django_db
def test_services_booleans_are_json_booleans(me):
    make_service(refill=False, cancel=False, dripfeed=True)
    (item,) = me("services")
    assert item["refill"] is False
    assert item["cancel"] is False
    assert item["dripfeed"] is True


@pytest.mark.django_db
def test_services_lists_every_type_by_its_wire_name(me):
    for service_type in ServiceType:
        make_service(type=service_type)
    assert sorted(s["type"] for s in me("services")) == sorted(t.value for t in ServiceType)
    assert {s["type"] for s in me("services")} >= {
        "Default",
        "Package",
        "Custom Comments",
        "Custom Comments Package",
        "Mentions with Hashtags",
        "Mentions Custom List",
        "Mentions Hashtag",
        "Mentions User Followers",
        "Mentions Media Likers",
        "Comment Likes",
        "Comment Replies",
        "Poll",
        "Invites from Groups",
        "Subscriptions",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rate", "wire"),
    [
        ("0.90", "0.90"),
        ("0.9", "0.90"),
        ("1", "1.00"),
        ("12", "12.00"),
        ("0.12345", "0.12345"),
        ("0.1234", "0.1234"),
        ("0.00001", "0.00001"),
        ("0", "0.00"),
        ("1500.50", "1500.50"),
    ],
)
def test_services_rate_is_a_string_with_at_least_two_places(me, rate, wire):
    make_service(rate=rate)
    (item,) = me("services")
    assert item["rate"] == wire


@pytest.mark.django_db
def test_services_ids_are_numbers_and_min_max_strings(me):
    service = make_service(min=1, max=1000000)
    (item,) = me("services")
    assert item["service"] == service.pk and type(item["service"]) is int
    assert item["min"] == "1"
    assert item["max"] == "1000000"


@pytest.mark.django_db
def test_only_enabled_services_in_enabled_categories_are_listed(me):
    shown = make_service(name="shown")
    make_service(name="disabled service", enabled=False)
    hidden = Category.objects.create(name="Hidden", enabled=False)
    make_service(name="in a disabled category", category=hidden)
    assert [s["name"] for s in me("services")] == ["shown"]
    assert [s["service"] for s in me("services")] == [shown.pk]


@pytest.mark.django_db
def test_services_rate_applies_the_customer_discount(me, other):
    make_service(rate="0.90")
    Customer.objects.filter(pk=me.customer.pk).update(discount_percent=Decimal("10"))
    (mine,) = me("services")
    (theirs,) = other("services")
    assert mine["rate"] == "0.81"
    assert theirs["rate"] == "0.90"


@pytest.mark.django_db
def test_services_rate_discount_rounds_to_five_places(me):
    make_service(rate="1.5")
    Customer.objects.filter(pk=me.customer.pk).update(discount_percent=Decimal("33.33"))
    (item,) = me("services")
    assert item["rate"] == "1.00005"


@pytest.mark.django_db
def test_services_rate_uses_the_custom_rate_over_the_discount(me, other):
    special = make_service(name="special", rate="0.90")
    make_service(name="plain", rate="2.00")
    Customer.objects.filter(pk=me.customer.pk).update(discount_percent=Decimal("50"))
    CustomerRate.objects.create(customer=me.customer, service=special, rate=Decimal("0.5"))
    mine = {s["name"]: s["rate"] for s in me("services")}
    theirs = {s["name"]: s["rate"] for s in other("services")}
    assert mine == {"special": "0.50", "plain": "1.00"}
    assert theirs == {"special": "0.90", "plain": "2.00"}


@pytest.mark.django_db
def test_the_listed_rate_is_the_rate_charged(me):
    service = make_service(rate="0.90", min=1)
    Customer.objects.filter(pk=me.customer.pk).update(discount_percent=Decimal("10"))
    CustomerRate.objects.create(customer=me.customer, service=service, rate=Decimal("0.27819"))
    (item,) = me("services")
    assert item["rate"] == "0.27819"
    order = me.add(service, link=LINK, quantity="1000")
    assert me("status", order=str(order))["charge"] == "0.27819"
    assert me("balance")["balance"] == "99.72181"


@pytest.mark.django_db
def test_a_full_discount_lists_and_charges_zero(me):
    service = make_service(rate="0.90")
    Customer.objects.filter(pk=me.customer.pk).update(discount_percent=Decimal("100"))
    (item,) = me("services")
    assert item["rate"] == "0.00"
    order = me.add(service, link=LINK, quantity="1000")
    assert me("status", order=str(order))["charge"] == "0.00000"
    assert me("balance")["balance"] == "100.00000"
