"""Money rules: Decimal only, 5 places, half-up.

Every amount that is stored, compared or sent on the wire passes through `quantize`.
Floats are refused outright: `to_money(0.1)` raises, because 0.1 is not 0.1.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PLACES = 5
QUANTUM = Decimal(1).scaleb(-PLACES)  # Decimal("0.00001")
#: Columns are NUMERIC(15, 5): ten integer digits, and SQLite round-trips them exactly.
MAX_DIGITS = 15
MAX_AMOUNT = Decimal("9999999999.99999")
ZERO = Decimal("0.00000")
PER = Decimal(1000)  # rates are prices per 1000 units


def quantize(value: Decimal) -> Decimal:
    result = value.quantize(QUANTUM, rounding=ROUND_HALF_UP)
    # -0.000001 rounds to -0.00000; money has no negative zero (nor does the wire).
    return result if result else result.copy_abs()


def to_money(value: Decimal | int | str) -> Decimal:
    """Parse an amount given by a person or a file; raises ValueError on anything odd."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    if amount.adjusted() >= MAX_DIGITS:
        # Too many digits to hold at 5 places: quantize would raise InvalidOperation.
        raise ValueError(f"amount out of range: {value!r}")
    amount = quantize(amount)
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"amount out of range: {value!r}")
    return amount


def price(rate: Decimal, units: int) -> Decimal:
    """What `units` cost at `rate` per 1000, rounded to 5 places half-up."""
    return quantize(rate * units / PER)


def apply_discount(rate: Decimal, percent: Decimal) -> Decimal:
    """A rate lowered by `percent` (0-100), never below zero."""
    return max(ZERO, quantize(rate * (Decimal(100) - percent) / Decimal(100)))


def format_money(amount: Decimal) -> str:
    """The wire form of a balance or charge: always 5 places (`"0.27819"`)."""
    return f"{quantize(amount):f}"


def format_rate(rate: Decimal) -> str:
    """The wire form of a rate: at least 2 places, no trailing zeros past them (`"0.90"`)."""
    text = f"{quantize(rate):f}"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return f"{whole}.{frac:0<2}"


#: Currencies whose smallest unit is not a hundredth, as payment gateways count them
#: (Stripe's list of zero- and three-decimal currencies); every other has two places.
_ZERO_DECIMAL = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD JOD KWD OMR TND"
_MINOR_PLACES = {
    **{code: 0 for code in _ZERO_DECIMAL.split()},
    **{code: 3 for code in _THREE_DECIMAL.split()},
}


def currency_places(currency: str) -> int:
    """How many decimals an amount paid in `currency` has (2 for USD, 0 for JPY)."""
    return _MINOR_PLACES.get(currency.upper(), 2)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """`amount` in the currency's smallest unit (cents); it must already be whole cents."""
    scaled = amount.scaleb(currency_places(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of {currency}'s smallest unit")
    return int(scaled)


def from_minor_units(units: int, currency: str) -> Decimal:
    return quantize(Decimal(units).scaleb(-currency_places(currency)))


def round_to_currency(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's smallest unit, kept at money's 5 places."""
    step = Decimal(1).scaleb(-currency_places(currency))
    return quantize(amount.quantize(step, rounding=ROUND_HALF_UP))
