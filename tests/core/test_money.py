"""Money rules of core/money.py: Decimal only, 5 places, half-up, and the two wire forms.

The oracle for rounding is integer arithmetic on hundred-thousandths, so these tests do not
lean on the `decimal` module agreeing with itself.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smmpanel.core.money import (
    MAX_AMOUNT,
    QUANTUM,
    ZERO,
    apply_discount,
    format_money,
    format_rate,
    price,
    quantize,
    to_money,
)

#: Rates as stored: NUMERIC(15, 5), never negative; as an integer count of 0.00001.
rate_units = st.integers(min_value=0, max_value=10**10 - 1)
units = st.integers(min_value=0, max_value=1_000_000_000)
#: Any finite Decimal a computation could hand to quantize (up to 8 places, 10 digits whole).
amounts = st.decimals(
    min_value=Decimal("-9999999999.99999999"),
    max_value=Decimal("9999999999.99999999"),
    places=8,
    allow_nan=False,
    allow_infinity=False,
)
nonneg_amounts = st.decimals(
    min_value=0, max_value=MAX_AMOUNT, places=8, allow_nan=False, allow_infinity=False
)


def _dec(hundred_thousandths: int) -> Decimal:
    return Decimal(hundred_thousandths).scaleb(-5)


def _half_up_div(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves away from zero, for numerator >= 0."""
    return (2 * numerator + denominator) // (2 * denominator)


# --- price -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "qty", "expected"),
    [
        ("0.90", 309, "0.27810"),  # api-v2.md's example shape
        ("0.90", 1000, "0.90000"),
        ("0.90", 0, "0.00000"),
        ("12.5", 1, "0.01250"),
        ("0.33333", 15, "0.00500"),  # 0.00499995 rounds up
        ("9999999999.99999", 1000, "9999999999.99999"),
    ],
)
def test_price_examples(rate, qty, expected):
    result = price(Decimal(rate), qty)
    assert result == Decimal(expected)
    assert str(result) == expected  # and always 5 places


@pytest.mark.parametrize(
    ("rate", "qty", "half_up", "bankers"),
    [
        ("0.12345", 100, "0.01235", "0.01234"),  # 0.012345
        ("0.081", 5, "0.00041", "0.00040"),  # 0.000405
        ("0.005", 5, "0.00003", "0.00002"),  # 0.000025
        ("0.00001", 500, "0.00001", "0.00000"),  # 0.000005: a tiny charge is not free
        ("0.04175", 300, "0.01253", "0.01252"),  # 0.012525
        ("2.501", 5, "0.01251", "0.01250"),  # 0.012505
    ],
)
def test_price_rounds_half_up_not_bankers(rate, qty, half_up, bankers):
    exact = Decimal(rate) * qty / 1000
    # The case really is one where the two roundings disagree...
    assert exact.quantize(QUANTUM, rounding=ROUND_HALF_EVEN) == Decimal(bankers)
    # ...and the panel takes the half-up one.
    assert price(Decimal(rate), qty) == Decimal(half_up)


@given(rate=rate_units, qty=units)
@example(rate=12345, qty=100)
@example(rate=1, qty=500)
def test_price_is_rate_times_units_over_1000_half_up(rate, qty):
    # exact charge in 0.00001 units is rate * qty / 1000
    expected = _dec(_half_up_div(rate * qty, 1000))
    result = price(_dec(rate), qty)
    assert result == expected
    assert result.as_tuple().exponent == -5


@given(rate=rate_units, a=units, b=units)
def test_price_is_monotonic_in_units(rate, a, b):
    low, high = sorted((a, b))
    assert price(_dec(rate), low) <= price(_dec(rate), high)


@given(rate=rate_units)
def test_price_of_a_thousand_is_the_rate(rate):
    assert price(_dec(rate), 1000) == _dec(rate)
    assert price(_dec(rate), 0) == ZERO


# --- quantize ----------------------------------------------------------------------------


@given(amounts)
@example(Decimal("0.000005"))
@example(Decimal("0.000015"))
@example(Decimal("-0.000005"))
def test_quantize_rounds_to_nearest_hundred_thousandth_half_away_from_zero(value):
    result = quantize(value)
    assert result.as_tuple().exponent == -5
    assert abs(result - value) <= Decimal("0.000005")
    # Oracle in integers: value has at most 8 places.
    scaled = int(value.scaleb(8))
    magnitude = _half_up_div(abs(scaled), 1000)
    assert result == _dec(magnitude if scaled >= 0 else -magnitude)


@given(amounts)
def test_quantize_is_idempotent_and_symmetric(value):
    assert quantize(quantize(value)) == quantize(value)
    assert quantize(-value) == -quantize(value)


# --- format_money ------------------------------------------------------------------------

MONEY_WIRE = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]{5}$")


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("0.27819", "0.27819"),
        ("100.84292", "100.84292"),
        ("0", "0.00000"),
        ("0E-10", "0.00000"),
        ("1E+3", "1000.00000"),
        ("0.000005", "0.00001"),
        ("12.3", "12.30000"),
        ("-0.000001", "0.00000"),  # no "-0.00000" on the wire
        ("9999999999.99999", "9999999999.99999"),
    ],
)
def test_format_money_examples(value, wire):
    assert format_money(Decimal(value)) == wire


@given(amounts)
def test_format_money_is_five_places_plain_and_exact(value):
    wire = format_money(value)
    assert MONEY_WIRE.match(wire), wire
    assert "E" not in wire and "e" not in wire
    assert Decimal(wire) == quantize(value)
    assert wire != "-0.00000"


# --- format_rate -------------------------------------------------------------------------

RATE_WIRE = re.compile(r"^(0|[1-9][0-9]*)\.[0-9]{2,5}$")


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("0.90", "0.90"),
        ("0.9", "0.90"),
        ("0.90000", "0.90"),
        ("1", "1.00"),
        ("0", "0.00"),
        ("10.5", "10.50"),
        ("0.001", "0.001"),
        ("0.12345", "0.12345"),
        ("0.123456", "0.12346"),
        ("1E+2", "100.00"),
        ("1250.10", "1250.10"),
    ],
)
def test_format_rate_examples(value, wire):
    assert format_rate(Decimal(value)) == wire


@given(nonneg_amounts)
def test_format_rate_is_two_to_five_places_without_trailing_zeros(value):
    wire = format_rate(value)
    assert RATE_WIRE.match(wire), wire
    assert Decimal(wire) == quantize(value)
    frac = wire.split(".")[1]
    assert len(frac) == 2 or not frac.endswith("0")


# --- to_money and apply_discount ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10", "10.00000"),
        (" 0.278195 ", "0.27820"),
        (Decimal("1.5"), "1.50000"),
        (7, "7.00000"),
        ("-2.5", "-2.50000"),
        ("9999999999.99999", "9999999999.99999"),
    ],
)
def test_to_money_accepts_amounts(raw, expected):
    assert str(to_money(raw)) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "1,5",
        "nan",
        "NaN",
        "sNaN",
        "inf",
        "-Infinity",
        "10000000000",
        "9999999999.999995",  # rounds past the column
        "1e10",
        "1e30",  # more digits than the Decimal context holds at 5 places
        "1e999999",
        "-1e999999",
    ],
)
def test_to_money_refuses_what_is_not_an_amount_with_value_error(raw):
    with pytest.raises(ValueError):
        to_money(raw)


@given(st.text(max_size=50))
@example("1e30")
@example("-0.000001")
def test_to_money_raises_only_value_error(raw):
    try:
        amount = to_money(raw)
    except ValueError:
        return
    assert abs(amount) <= MAX_AMOUNT
    assert amount.as_tuple().exponent == -5


def test_to_money_refuses_floats():
    with pytest.raises(TypeError):
        to_money(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rate", "percent", "expected"),
    [
        ("0.90", "10", "0.81000"),
        ("0.90", "0", "0.90000"),
        ("0.90", "100", "0.00000"),
        ("0.12345", "50", "0.06173"),  # 0.061725 half-up
        ("1.00", "33.33", "0.66670"),
    ],
)
def test_apply_discount(rate, percent, expected):
    assert apply_discount(Decimal(rate), Decimal(percent)) == Decimal(expected)


@given(rate=rate_units, hundredths=st.integers(min_value=0, max_value=10000))
def test_apply_discount_never_raises_a_rate_nor_goes_negative(rate, hundredths):
    result = apply_discount(_dec(rate), Decimal(hundredths).scaleb(-2))
    assert ZERO <= result <= _dec(rate)
