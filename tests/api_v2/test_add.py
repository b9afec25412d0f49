"""`add` for all 14 service types: required parameters, charged quantity, charge, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smmpanel.catalog.models import Category, ServiceType
from smmpanel.orders.models import Order
from smmpanel.orders.services import order_transition
from smmpanel.orders.states import OrderStatus
from tests.api_v2.conftest import LINK, err, sci
from tests.factories import make_customer, make_service

T = ServiceType

#: type -> (parameters besides `service`, quantity charged, charge) at a rate of 2.00 per 1000
#: (3.50 per package for the two package types).
CASES: dict[str, tuple[dict[str, str], int, str]] = {
    T.DEFAULT: ({"link": LINK, "quantity": "500"}, 500, "1.00000"),
    T.PACKAGE: ({"link": LINK}, 1, "3.50000"),
    T.CUSTOM_COMMENTS: (
        {"link": LINK, "comments": "nice\r\ngreat\n\n   \r\nwow\n"},
        3,
        "0.00600",
    ),
    T.CUSTOM_COMMENTS_PACKAGE: ({"link": LINK, "comments": "one\ntwo"}, 1, "3.50000"),
    T.MENTIONS_WITH_HASHTAGS: (
        {"link": LINK, "quantity": "300", "usernames": "ann\nbob", "hashtags": "#a\r\n#b"},
        300,
        "0.60000",
    ),
    T.MENTIONS_CUSTOM_LIST: ({"link": LINK, "usernames": "u1\nu2\r\nu3\n\nu4"}, 4, "0.00800"),
    T.MENTIONS_HASHTAG: ({"link": LINK, "quantity": "250", "hashtag": "#tag"}, 250, "0.50000"),
    T.MENTIONS_USER_FOLLOWERS: (
        {"link": LINK, "quantity": "100", "username": "bob"},
        100,
        "0.20000",
    ),
    T.MENTIONS_MEDIA_LIKERS: (
        {"link": LINK, "quantity": "100", "media": "https://instagram.com/p/xyz"},
        100,
        "0.20000",
    ),
    T.COMMENT_LIKES: ({"link": LINK, "quantity": "50", "username": "bob"}, 50, "0.10000"),
    T.COMMENT_REPLIES: (
        {"link": LINK, "username": "bob", "comments": "r1\r\nr2"},
        2,
        "0.00400",
    ),
    T.POLL: ({"link": LINK, "quantity": "200", "answer_number": "2"}, 200, "0.40000"),
    T.INVITES_FROM_GROUPS: (
        {"link": LINK, "quantity": "150", "groups": "g1\ng2"},
        150,
        "0.30000",
    ),
    T.SUBSCRIPTIONS: ({"username": "bob", "min": "100", "max": "200", "delay": "30"}, 0, "0.00000"),
}
REQUIRED = {
    T.DEFAULT: ["link", "quantity"],
    T.PACKAGE: ["link"],
    T.CUSTOM_COMMENTS: ["link", "comments"],
    T.CUSTOM_COMMENTS_PACKAGE: ["link", "comments"],
    T.MENTIONS_WITH_HASHTAGS: ["link", "quantity", "usernames", "hashtags"],
    T.MENTIONS_CUSTOM_LIST: ["link", "usernames"],
    T.MENTIONS_HASHTAG: ["link", "quantity", "hashtag"],
    T.MENTIONS_USER_FOLLOWERS: ["link", "quantity", "username"],
    T.MENTIONS_MEDIA_LIKERS: ["link", "quantity", "media"],
    T.COMMENT_LIKES: ["link", "quantity", "username"],
    T.COMMENT_REPLIES: ["link", "username", "comments"],
    T.POLL: ["link", "quantity", "answer_number"],
    T.INVITES_FROM_GROUPS: ["link", "quantity", "groups"],
    T.SUBSCRIPTIONS: ["username", "min", "max", "delay"],
}
PACKAGES = {T.PACKAGE, T.CUSTOM_COMMENTS_PACKAGE}
LINKED = [t for t in T if "link" in REQUIRED[t]]
WITH_QUANTITY = [t for t in T if "quantity" in REQUIRED[t]]


def service_of(service_type: str, **kwargs):
    rate = "3.50" if service_type in PACKAGES else "2.00"
    kwargs.setdefault("min", 1)
    return make_service(type=service_type, rate=rate, **kwargs)


def test_the_table_covers_every_type():
    assert set(CASES) == set(T) == set(REQUIRED)
    assert len(T) == 14


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", list(T), ids=lambda t: t.value)
def test_add_every_type_charges_what_the_table_says(me, service_type):
    params, quantity, charge = CASES[service_type]
    service = service_of(service_type)
    ledger_before = me.ledger_count()

    reply = me("add", service=str(service.pk), **params)

    assert list(reply) == ["order"] and type(reply["order"]) is int
    order = Order.objects.get(pk=reply["order"])
    assert order.customer_id == me.customer.pk
    assert order.service_id == service.pk
    assert order.type == service_type
    assert order.charged_quantity == quantity
    assert order.charge == Decimal(charge)
    assert me.balance() == Decimal("100") - Decimal(charge)
    assert me("balance") == {
        "balance": f"{Decimal('100') - Decimal(charge):.5f}",
        "currency": "USD",
    }
    assert me.ledger_count() == ledger_before + (1 if Decimal(charge) else 0)
    for name, value in params.items():
        column = {"min": "sub_min", "max": "sub_max", "delay": "sub_delay"}.get(name, name)
        assert str(getattr(order, column)) == value.strip(), name
    if service_type == T.SUBSCRIPTIONS:
        assert order.link == "bob"  # the watched account
    status = me("status", order=str(reply["order"]))
    if service_type == T.SUBSCRIPTIONS:
        assert status == {
            "charge": "0.00000",
            "status": "Active",
            "currency": "USD",
            "posts": "0",
            "orders": [],
            "expiry": None,
        }
    else:
        assert status == {
            "charge": charge,
            "start_count": "0",
            "status": "Pending",
            "remains": str(quantity),
            "currency": "USD",
        }


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", list(T), ids=lambda t: t.value)
def test_add_missing_parameter_is_named(me, service_type):
    params, _, _ = CASES[service_type]
    service = service_of(service_type)
    for missing in REQUIRED[service_type]:
        without = {k: v for k, v in params.items() if k != missing}
        for absent in (without, {**params, missing: ""}, {**params, missing: " \r\n "}):
            reply = me("add", service=str(service.pk), **absent)
            if missing == "link":
                assert reply == err("Bad link"), absent
            else:
                assert reply == err(f"Missing required parameter: {missing}"), absent
    assert me.order_count() == 0
    assert me.balance() == Decimal("100")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("service_type", "name"),
    [
        (T.CUSTOM_COMMENTS, "comments"),
        (T.CUSTOM_COMMENTS_PACKAGE, "comments"),
        (T.MENTIONS_CUSTOM_LIST, "usernames"),
        (T.COMMENT_REPLIES, "comments"),
    ],
)
def test_add_a_list_of_only_blank_lines_is_missing(me, service_type, name):
    params, _, _ = CASES[service_type]
    service = service_of(service_type)
    reply = me("add", service=str(service.pk), **{**params, name: "\r\n  \n\n"})
    assert reply == err(f"Missing required parameter: {name}")
    assert me.order_count() == 0


TEXT_PARAMS = ["comments", "usernames", "hashtags", "hashtag", "username", "media"]
TEXT_PARAMS += ["answer_number", "groups"]


WITH_TEXT = [t for t in T if any(name in CASES[t][0] for name in TEXT_PARAMS)]


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", WITH_TEXT, ids=lambda t: t.value)
def test_add_text_parameter_with_a_nul_is_named(me, service_type):
    """PostgreSQL cannot store a NUL: the client must hear which parameter, not 'busy'."""
    params, _, _ = CASES[service_type]
    service = service_of(service_type)
    names = [n for n in TEXT_PARAMS if n in params]
    assert names
    for name in names:
        reply = me("add", service=str(service.pk), **{**params, name: "a\x00b\nc"})
        assert set(reply) == {"error"}, name
        assert name in reply["error"], (name, reply)
    assert me.order_count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", WITH_QUANTITY, ids=lambda t: t.value)
def test_add_malformed_quantity_is_named(me, service_type):
    params, _, _ = CASES[service_type]
    service = service_of(service_type)
    for quantity in ("abc", "1.5", "12abc", "0x10", "1,000", "NaN", "Infinity", "1e999"):
        reply = me("add", service=str(service.pk), **{**params, "quantity": quantity})
        assert set(reply) == {"error"}, quantity
        assert "quantity" in reply["error"], (quantity, reply)
    assert me.order_count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", WITH_QUANTITY, ids=lambda t: t.value)
def test_add_quantity_limits_for_every_type_with_a_quantity(me, service_type):
    params, _, _ = CASES[service_type]
    service = service_of(service_type, min=50, max=500)
    add = lambda q: me("add", service=str(service.pk), **{**params, "quantity": q})  # noqa: E731
    assert add("49") == err("Quantity less than minimal 50")
    assert add("501") == err("Quantity more than maximum 500")
    assert add("0") == err("Quantity less than minimal 50")
    negative = add("-100")
    assert set(negative) == {"error"} and "quantity" in negative["error"].lower()
    assert me.order_count() == 0
    assert set(add("50")) == {"order"}
    order_transition(order_id=Order.objects.get().pk, to=OrderStatus.CANCELED, actor="test")
    assert set(add(" 500 ")) == {"order"}
    assert sorted(Order.objects.values_list("quantity", flat=True)) == [50, 500]


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", ["50", "500", "500.0", "5e2", "5.0e+02", " 100 "])
def test_add_quantity_bounds_are_inclusive_and_whole_floats_count(me, quantity):
    service = make_service(rate="1.00", min=50, max=500)
    order = me.add(service, link=LINK, quantity=quantity)
    assert Order.objects.get(pk=order).quantity == int(Decimal(quantity.strip()))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("service_type", "name", "lines"),
    [
        (T.CUSTOM_COMMENTS, "comments", 3),
        (T.MENTIONS_CUSTOM_LIST, "usernames", 4),
        (T.COMMENT_REPLIES, "comments", 2),
    ],
)
def test_add_counted_lists_are_held_to_min_and_max(me, service_type, name, lines):
    params, _, _ = CASES[service_type]
    too_few = service_of(service_type, min=lines + 1, max=100)
    too_many = service_of(service_type, min=1, max=lines - 1)
    exact = service_of(service_type, min=lines, max=lines)
    assert me("add", service=str(too_few.pk), **params) == err(
        f"Quantity less than minimal {lines + 1}"
    )
    assert me("add", service=str(too_many.pk), **params) == err(
        f"Quantity more than maximum {lines - 1}"
    )
    order = me.add(exact, **params)
    assert Order.objects.get(pk=order).charged_quantity == lines


@pytest.mark.django_db
def test_add_counted_list_ignores_a_sent_quantity(me):
    params, _, _ = CASES[T.CUSTOM_COMMENTS]
    service = service_of(T.CUSTOM_COMMENTS)
    order = me.add(service, **params, quantity="1000")
    assert Order.objects.get(pk=order).charged_quantity == 3
    assert me("status", order=str(order))["charge"] == "0.00600"


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", sorted(PACKAGES), ids=lambda t: t.value)
def test_add_package_charges_the_rate_whatever_quantity_is_sent(me, service_type):
    params, _, _ = CASES[service_type]
    service = make_service(type=service_type, rate="12.34567", min=1000, max=1000)
    order = me.add(service, **params, quantity="5000")
    assert me("status", order=str(order)) == {
        "charge": "12.34567",
        "start_count": "0",
        "status": "Pending",
        "remains": "1",
        "currency": "USD",
    }
    assert me.balance() == Decimal("87.65433")


@pytest.mark.django_db
def test_add_charge_is_rounded_half_up_to_five_places(me):
    service = make_service(rate="0.005", min=1)
    order = me.add(service, link=LINK, quantity="1")  # 0.000005 -> 0.00001, not 0.00000
    assert me("status", order=str(order))["charge"] == "0.00001"
    service = make_service(rate="0.27819", min=1)
    order = me.add(service, link=LINK, quantity="1000")
    assert me("status", order=str(order))["charge"] == "0.27819"
    assert me.balance() == Decimal("99.72180")


# --- service id -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("service_id", ["", " ", "abc", "0", "-1", "1.5", "99999999", "1e999"])
def test_add_bad_service_id_is_incorrect_service_id(me, service_id):
    make_service()
    assert me("add", service=service_id, link=LINK, quantity="100") == err("Incorrect service ID")


@pytest.mark.django_db
def test_add_without_service_is_incorrect_service_id(me):
    make_service()
    assert me("add", link=LINK, quantity="100") == err("Incorrect service ID")


@pytest.mark.django_db
def test_add_disabled_service_is_incorrect_service_id(me):
    service = make_service(enabled=False)
    assert me("add", service=str(service.pk), link=LINK, quantity="100") == err(
        "Incorrect service ID"
    )
    hidden = make_service(category=Category.objects.create(name="Off", enabled=False))
    assert me("add", service=str(hidden.pk), link=LINK, quantity="100") == err(
        "Incorrect service ID"
    )
    assert me.order_count() == 0
    assert me.balance() == Decimal("100")


@pytest.mark.django_db
def test_add_service_id_as_a_whole_float_is_accepted(me):
    service = make_service(rate="1.00")
    for token in (f"{service.pk}.0", sci(service.pk), f" {service.pk} "):
        reply = me("add", service=token, link=f"{LINK}/{token.strip()}", quantity="100")
        assert set(reply) == {"order"}, (token, reply)
        assert Order.objects.get(pk=reply["order"]).service_id == service.pk


# --- link -------------------------------------------------------------------------------


BAD_LINKS = [
    "",
    "   ",
    "ftp://example.com/x",
    "http://",
    "https://exa mple.com/x",
    "https://example.com/\x00",
    "https://example.com/\tx",
    "https://example.com/" + "x" * 2000,
    "javascript:alert(1)",
    "data:text/html,hi",
    "mailto:someone@example.com",
]


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", LINKED, ids=lambda t: t.value)
def test_add_bad_link(me, service_type):
    params, _, _ = CASES[service_type]
    service = service_of(service_type)
    for link in BAD_LINKS:
        reply = me("add", service=str(service.pk), **{**params, "link": link})
        assert reply == err("Bad link"), link
    assert me.order_count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "link",
    [
        "https://www.instagram.com/p/Cx1/",
        "http://t.me/channel",
        "HTTPS://YOUTUBE.COM/watch?v=abc&t=1",
        "instagram.com/user",
        "@username",
        "  https://example.com/padded  ",
        "example.com:8080/page",
    ],
)
def test_add_good_links_are_accepted(me, link):
    order = me.add(make_service(rate="1.00"), link=link, quantity="100")
    assert Order.objects.get(pk=order).link == link.strip()


# --- funds ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", [t for t in T if t != T.SUBSCRIPTIONS], ids=str)
def test_add_not_enough_funds_changes_nothing(api, service_type):
    _, key = make_customer("0.00001")
    params, _, _ = CASES[service_type]
    service = service_of(service_type)
    reply = api(key, "add", service=str(service.pk), **params)
    assert reply == err("Not enough funds on balance")
    assert Order.objects.count() == 0
    assert api(key, "balance")["balance"] == "0.00001"


@pytest.mark.django_db
def test_add_may_spend_the_balance_to_exactly_zero(api):
    _, key = make_customer("0.90")
    service = make_service(rate="0.90")
    reply = api(key, "add", service=str(service.pk), link=LINK, quantity="1000")
    assert set(reply) == {"order"}
    assert api(key, "balance")["balance"] == "0.00000"
    reply = api(key, "add", service=str(service.pk), link=LINK + "/2", quantity="10")
    assert reply == err("Not enough funds on balance")


@pytest.mark.django_db
def test_add_funds_are_checked_at_this_customers_price(api):
    customer, key = make_customer("0.50")
    service = make_service(rate="0.90")
    assert api(key, "add", service=str(service.pk), link=LINK, quantity="1000") == err(
        "Not enough funds on balance"
    )
    customer.discount_percent = Decimal("50")
    customer.save(update_fields=["discount_percent"])
    assert set(api(key, "add", service=str(service.pk), link=LINK, quantity="1000")) == {"order"}
    assert api(key, "balance")["balance"] == "0.05000"


# --- active order with this link ----------------------------------------------------------

ACTIVE = "You have active order with this link. Please wait until order being completed."


@pytest.mark.django_db
@pytest.mark.parametrize("service_type", LINKED, ids=lambda t: t.value)
def test_add_same_link_while_active_is_refused(me, service_type):
    params, _, _ = CASES[service_type]
    service = service_of(service_type)
    me.add(service, **params)
    balance = me.balance()
    assert me("add", service=str(service.pk), **params) == err(ACTIVE)
    assert me.order_count() == 1
    assert me.balance() == balance


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [OrderStatus.IN_PROGRESS, OrderStatus.PROCESSING], ids=lambda s: s.value
)
def test_add_same_link_while_running_is_refused(me, status):
    service = make_service(rate="1.00")
    first = me.add(service, link=LINK, quantity="100")
    order_transition(order_id=first, to=status, actor="test")
    assert me("add", service=str(service.pk), link=LINK, quantity="100") == err(ACTIVE)
    assert me("add", service=str(service.pk), link=f"  {LINK} ", quantity="100") == err(ACTIVE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "remains"),
    [(OrderStatus.COMPLETED, None), (OrderStatus.PARTIAL, 40), (OrderStatus.CANCELED, None)],
    ids=lambda v: getattr(v, "value", v),
)
def test_add_same_link_after_the_order_finished_is_accepted(me, status, remains):
    service = make_service(rate="1.00")
    first = me.add(service, link=LINK, quantity="100")
    order_transition(order_id=first, to=status, actor="test", remains=remains)
    second = me.add(service, link=LINK, quantity="100")
    assert second != first


@pytest.mark.django_db
def test_add_same_link_on_another_service_or_by_another_customer_is_accepted(me, other):
    service = make_service(rate="1.00")
    me.add(service, link=LINK, quantity="100")
    me.add(make_service(rate="1.00"), link=LINK, quantity="100")
    other.add(service, link=LINK, quantity="100")
    me.add(service, link=LINK + "/other", quantity="100")


@pytest.mark.django_db
def test_add_same_subscription_username_while_active_is_refused(me):
    params, _, _ = CASES[T.SUBSCRIPTIONS]
    service = service_of(T.SUBSCRIPTIONS)
    me.add(service, **params)
    assert me("add", service=str(service.pk), **params) == err(ACTIVE)


# --- drip-feed ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_add_drip_feed_charges_quantity_times_runs(me):
    service = make_service(rate="2.00", min=10, max=1000, dripfeed=True)
    order = me.add(service, link=LINK, quantity="100", runs="3", interval="10")
    row = Order.objects.get(pk=order)
    assert (row.quantity, row.runs, row.interval, row.charged_quantity) == (100, 3, 10, 300)
    assert me("status", order=str(order)) == {
        "charge": "0.60000",
        "start_count": "0",
        "status": "Pending",
        "remains": "300",
        "currency": "USD",
        "runs": "3",
        "completed_runs": "0",
    }
    assert me.balance() == Decimal("99.40000")


@pytest.mark.django_db
def test_add_drip_feed_limits_apply_to_each_run(me):
    service = make_service(rate="1.00", min=10, max=1000, dripfeed=True)
    add = lambda **p: me("add", service=str(service.pk), link=LINK, **p)  # noqa: E731
    assert add(quantity="5", runs="3", interval="10") == err("Quantity less than minimal 10")
    assert add(quantity="1001", runs="2", interval="10") == err("Quantity more than maximum 1000")
    assert set(add(quantity="1000", runs="2", interval="1")) == {"order"}
    assert Order.objects.get(customer=me.customer).charged_quantity == 2000


@pytest.mark.django_db
def test_add_drip_feed_on_a_service_without_it_is_refused(me):
    service = make_service(rate="1.00", dripfeed=False)
    reply = me("add", service=str(service.pk), link=LINK, quantity="100", runs="3", interval="10")
    assert reply == err("Drip-feed is not available for this service")
    assert me.order_count() == 0
    assert me.balance() == Decimal("100")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("runs", "interval", "named"),
    [
        ("1", "10", "runs"),
        ("0", "10", "runs"),
        ("x", "10", "runs"),
        ("2.5", "10", "runs"),
        ("3", "", "interval"),
        ("3", "0", "interval"),
        ("3", "abc", "interval"),
    ],
)
def test_add_drip_feed_malformed_runs_or_interval_is_named(me, runs, interval, named):
    service = make_service(rate="1.00", dripfeed=True)
    params = {"runs": runs, "interval": interval} if interval else {"runs": runs}
    reply = me("add", service=str(service.pk), link=LINK, quantity="100", **params)
    assert set(reply) == {"error"}
    assert named in reply["error"]
    assert me.order_count() == 0


@pytest.mark.django_db
def test_add_drip_feed_needs_funds_for_all_runs(api):
    _, key = make_customer("0.25")
    service = make_service(rate="1.00", dripfeed=True)
    reply = api(
        key, "add", service=str(service.pk), link=LINK, quantity="100", runs="3", interval="5"
    )
    assert reply == err("Not enough funds on balance")
    reply = api(
        key, "add", service=str(service.pk), link=LINK, quantity="100", runs="2", interval="5"
    )
    assert set(reply) == {"order"}
    assert api(key, "balance")["balance"] == "0.05000"


@pytest.mark.django_db
def test_add_without_runs_is_a_plain_order_even_with_an_interval(me):
    service = make_service(rate="1.00", dripfeed=True)
    order = me.add(service, link=LINK, quantity="100", interval="10")
    status = me("status", order=str(order))
    assert "runs" not in status and "completed_runs" not in status
    assert status["remains"] == "100"


# --- subscriptions ------------------------------------------------------------------------


@pytest.mark.django_db
def test_add_subscription_with_every_optional_parameter(me):
    service = service_of(T.SUBSCRIPTIONS, min=10, max=1000)
    order = me.add(
        service,
        username="bob",
        min="100",
        max="200",
        delay="0",
        posts="5",
        old_posts="2",
        expiry="31/12/2099",
    )
    row = Order.objects.get(pk=order)
    assert (row.sub_min, row.sub_max, row.sub_delay) == (100, 200, 0)
    assert (row.sub_posts, row.sub_old_posts, str(row.sub_expiry)) == (5, 2, "2099-12-31")
    assert row.charge == Decimal("0") and me.balance() == Decimal("100")
    assert me("status", order=str(order)) == {
        "charge": "0.00000",
        "status": "Active",
        "currency": "USD",
        "posts": "0",
        "orders": [],
        "expiry": "31/12/2099",
    }


DELAYS = [0, 5, 10, 15, 20, 30, 40, 50, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420]
DELAYS += [480, 540, 600]


@pytest.mark.django_db
def test_add_subscription_every_allowed_delay(me):
    service = service_of(T.SUBSCRIPTIONS)
    for delay in DELAYS:
        order = me.add(service, username=f"user{delay}", min="10", max="20", delay=str(delay))
        assert Order.objects.get(pk=order).sub_delay == delay
    for delay in (1, 7, 25, 45, 100, 500, 599, 601, 720, 1000):
        reply = me(
            "add", service=str(service.pk), username="x", min="10", max="20", delay=str(delay)
        )
        assert set(reply) == {"error"} and "delay" in reply["error"], delay


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"delay": "7"}, "delay"),
        ({"delay": "601"}, "delay"),
        ({"delay": "soon"}, "delay"),
        ({"min": "x"}, "min"),
        ({"max": "1.5"}, "max"),
        ({"min": "300", "max": "200"}, "min"),
        ({"posts": "0"}, "posts"),
        ({"posts": "many"}, "posts"),
        ({"old_posts": "-"}, "old_posts"),
        ({"expiry": "2099-12-31"}, "expiry"),
        ({"expiry": "31/02/2099"}, "expiry"),
        ({"expiry": "01/01/2020"}, "expiry"),
    ],
)
def test_add_subscription_malformed_parameter_is_named(me, changes, named):
    params, _, _ = CASES[T.SUBSCRIPTIONS]
    service = service_of(T.SUBSCRIPTIONS)
    reply = me("add", service=str(service.pk), **{**params, **changes})
    assert set(reply) == {"error"}
    assert named in reply["error"]
    assert me.order_count() == 0


@pytest.mark.django_db
def test_add_subscription_min_and_max_are_held_to_the_service_limits(me):
    service = service_of(T.SUBSCRIPTIONS, min=50, max=500)
    add = lambda lo, hi: me(  # noqa: E731
        "add", service=str(service.pk), username="bob", min=lo, max=hi, delay="0"
    )
    assert add("49", "100") == err("Quantity less than minimal 50")
    assert add("50", "501") == err("Quantity more than maximum 500")
    assert set(add("50", "500")) == {"order"}
