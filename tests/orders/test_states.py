"""The transition tables, checked as data: no database here."""

from __future__ import annotations

import itertools

import pytest

from smmpanel.orders.states import (
    ACTIVE_REFILL_STATUSES,
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    REFILL_TRANSITIONS,
    REFUND_ALL,
    REFUND_REMAINS,
    SUBSCRIPTION_TRANSITIONS,
    TRANSITIONS,
    OrderStatus,
    RefillStatus,
    can_transition,
    can_transition_refill,
)

S = OrderStatus
R = RefillStatus
ORDER_STATUSES = list(OrderStatus)
REFILL_STATUSES = list(RefillStatus)
ORDINARY = [S.PENDING, S.IN_PROGRESS, S.PROCESSING, S.COMPLETED, S.PARTIAL, S.CANCELED]
SUBSCRIPTION = [S.ACTIVE, S.PAUSED, S.COMPLETED, S.EXPIRED, S.CANCELED]
REFILL_FINAL = [R.COMPLETED, R.REJECTED, R.ERROR]
BOTH = pytest.mark.parametrize("subscription", [False, True])


def test_the_wire_strings():
    assert [s.value for s in ORDINARY] == [
        "Pending",
        "In progress",
        "Processing",
        "Completed",
        "Partial",
        "Canceled",
    ]
    assert {s.value for s in SUBSCRIPTION} == {
        "Active",
        "Paused",
        "Completed",
        "Expired",
        "Canceled",
    }
    assert [r.value for r in REFILL_STATUSES] == [
        "Pending",
        "In progress",
        "Completed",
        "Rejected",
        "Error",
    ]


def test_the_tables_cover_exactly_their_statuses():
    assert set(TRANSITIONS) == set(ORDINARY)
    assert set(SUBSCRIPTION_TRANSITIONS) == set(SUBSCRIPTION)
    assert set(REFILL_TRANSITIONS) == set(REFILL_STATUSES)
    for table, statuses in (
        (TRANSITIONS, ORDINARY),
        (SUBSCRIPTION_TRANSITIONS, SUBSCRIPTION),
        (REFILL_TRANSITIONS, REFILL_STATUSES),
    ):
        for targets in table.values():
            assert targets <= set(statuses)


@BOTH
@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
def test_a_final_status_has_no_exit(final, subscription):
    for target in ORDER_STATUSES:
        assert not can_transition(final, target, subscription=subscription), (final, target)


@pytest.mark.parametrize("final", REFILL_FINAL)
def test_a_final_refill_status_has_no_exit(final):
    for target in REFILL_STATUSES:
        assert not can_transition_refill(final, target), (final, target)


@BOTH
@pytest.mark.parametrize("source", ORDER_STATUSES)
def test_nothing_moves_back_to_pending(source, subscription):
    assert not can_transition(source, S.PENDING, subscription=subscription)
    assert not can_transition(str(source), "Pending", subscription=subscription)


@pytest.mark.parametrize("source", REFILL_STATUSES)
def test_no_refill_moves_back_to_pending(source):
    assert not can_transition_refill(source, R.PENDING)


@BOTH
@pytest.mark.parametrize("status", ORDER_STATUSES)
def test_no_status_moves_to_itself(status, subscription):
    assert not can_transition(status, status, subscription=subscription)


@pytest.mark.parametrize("status", REFILL_STATUSES)
def test_no_refill_status_moves_to_itself(status):
    assert not can_transition_refill(status, status)


@pytest.mark.parametrize("source", [S.PENDING, S.IN_PROGRESS, S.PROCESSING])
@pytest.mark.parametrize("final", [S.COMPLETED, S.PARTIAL, S.CANCELED])
def test_a_running_order_can_end_every_way(source, final):
    assert can_transition(source, final)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.PENDING, S.IN_PROGRESS),
        (S.PENDING, S.PROCESSING),
        (S.IN_PROGRESS, S.PROCESSING),
        (S.PROCESSING, S.IN_PROGRESS),
    ],
)
def test_running_orders_move_between_running_statuses(source, target):
    assert can_transition(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.ACTIVE, S.PAUSED),
        (S.PAUSED, S.ACTIVE),
        (S.ACTIVE, S.COMPLETED),
        (S.ACTIVE, S.EXPIRED),
        (S.ACTIVE, S.CANCELED),
        (S.PAUSED, S.CANCELED),
        (S.PAUSED, S.EXPIRED),
    ],
)
def test_subscription_moves(source, target):
    assert can_transition(source, target, subscription=True)
    # ...which are not moves of an ordinary order.
    assert not can_transition(source, target, subscription=False)


def test_the_two_kinds_do_not_mix():
    for source, target in itertools.product(ORDER_STATUSES, ORDER_STATUSES):
        if can_transition(source, target):
            assert source in ORDINARY and target in ORDINARY
        if can_transition(source, target, subscription=True):
            assert source in SUBSCRIPTION and target in SUBSCRIPTION
    assert not can_transition(S.PENDING, S.ACTIVE)
    assert not can_transition(S.IN_PROGRESS, S.PAUSED)
    assert not can_transition(S.ACTIVE, S.PARTIAL, subscription=True)
    assert not can_transition(S.PENDING, S.COMPLETED, subscription=True)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("Bogus", "Completed"),
        ("Pending", "Bogus"),
        ("", "Completed"),
        ("pending", "Completed"),  # statuses are exact strings
        ("Pending", "completed"),
        ("Completed", "Completed "),
    ],
)
def test_unknown_statuses_go_nowhere(source, target):
    assert not can_transition(source, target)
    assert not can_transition(source, target, subscription=True)
    assert not can_transition_refill(source, target)


def test_refill_moves():
    assert can_transition_refill(R.PENDING, R.IN_PROGRESS)
    for final in REFILL_FINAL:
        assert can_transition_refill(R.PENDING, final)
        assert can_transition_refill(R.IN_PROGRESS, final)
    assert not can_transition_refill(R.IN_PROGRESS, R.PENDING)


def test_no_path_returns_to_a_status_it_left_for_good():
    """From every status, walk every allowed path: a final status is never left, and the
    only cycles are between running statuses (or Active and Paused)."""
    for subscription, table in ((False, TRANSITIONS), (True, SUBSCRIPTION_TRANSITIONS)):
        for start in table:
            seen = {start}
            frontier = [start]
            while frontier:
                status = frontier.pop()
                for target in ORDER_STATUSES:
                    if can_transition(status, target, subscription=subscription):
                        assert status not in FINAL_STATUSES
                        if target not in seen:
                            seen.add(target)
                            frontier.append(target)
            if start in FINAL_STATUSES:
                assert seen == {start}
            else:
                assert S.PENDING not in seen - {start}
                assert seen & FINAL_STATUSES  # every live status can still end


def test_status_sets_agree_with_the_tables():
    assert not ACTIVE_STATUSES & FINAL_STATUSES
    assert REFUND_ALL <= FINAL_STATUSES
    assert REFUND_REMAINS <= FINAL_STATUSES
    assert not REFUND_ALL & REFUND_REMAINS
    assert set(ACTIVE_STATUSES) | set(FINAL_STATUSES) == set(ORDER_STATUSES)
    for table in (TRANSITIONS, SUBSCRIPTION_TRANSITIONS):
        for status, targets in table.items():
            assert (not targets) == (status in FINAL_STATUSES), status
    assert {s for s, t in REFILL_TRANSITIONS.items() if t} == set(ACTIVE_REFILL_STATUSES)
