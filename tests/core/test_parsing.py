"""Numbers as clients send them: any whole-valued number is an id or a count; nothing raises."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smmpanel.core.parsing import MAX_WHOLE, parse_id, parse_whole, split_lines, split_list

wholes = st.integers(min_value=-MAX_WHOLE, max_value=MAX_WHOLE)
positive = st.integers(min_value=1, max_value=MAX_WHOLE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23501", 23501),
        ("23501.0", 23501),
        ("23501.000", 23501),
        ("2.3501e+04", 23501),
        ("2.3501E+04", 23501),
        ("2.3501e4", 23501),
        ("1.2345678e+07", 12345678),  # Go's %v of order 12345678
        ("1e+06", 1000000),  # Go's %v of 1000000
        ("235010e-1", 23501),
        (" 42 ", 42),
        ("\t7\n", 7),
        ("+7", 7),
        ("-5", -5),
        ("0", 0),
        ("0.0", 0),
        ("1e18", 10**18),
        (str(MAX_WHOLE), MAX_WHOLE),
        (f"{MAX_WHOLE}.0", MAX_WHOLE),
        (f"-{MAX_WHOLE}", -MAX_WHOLE),
        (42, 42),
    ],
)
def test_parse_whole_accepts_whole_valued_numbers(text, expected):
    result = parse_whole(text)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "text",
    [
        "23501.5",
        "2.35015e+04",
        "0.1",
        "1e-1",
        "1e-999999",
        "inf",
        "-inf",
        "Infinity",
        "nan",
        "NaN",
        "-nan",
        "sNaN",
        "1e19",  # past BIGINT
        "1e999999",
        "1e999999999999999999",
        "1e9999999999999999999",  # past what Decimal's exponent can hold
        "-1e999999",
        str(MAX_WHOLE + 1),
        f"-{MAX_WHOLE + 1}",
        "9" * 40,
        "1" + "0" * 100,
        "",
        "   ",
        "abc",
        "12abc",
        "0x10",
        "1,000",
        "1 000",
        "--1",
        "1e",
        "e5",
        ".",
        None,
        True,
        False,
        1.0,
        Decimal("1"),
        2**63,
        [1],
    ],
)
def test_parse_whole_refuses_the_rest(text):
    assert parse_whole(text) is None


@given(wholes)
def test_parse_whole_reads_every_integer_back(n):
    assert parse_whole(str(n)) == n
    assert parse_whole(f"{n}.0") == n
    assert parse_whole(f" {n} ") == n
    assert parse_whole(n) == n


@given(wholes, st.integers(min_value=0, max_value=5), st.sampled_from(["e", "E"]))
def test_parse_whole_reads_scientific_notation_of_integers(n, extra_zeros, e):
    # The shortest exact mantissa, as Go and JavaScript print it, padded with zeros.
    digits = str(abs(n))
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    if extra_zeros:
        mantissa += ("" if "." in mantissa else ".") + "0" * extra_zeros
    sign = "-" if n < 0 else ""
    text = f"{sign}{mantissa}{e}+{len(digits) - 1:02d}"
    assert parse_whole(text) == n


def _go_v(x: float) -> str:
    """Go's `%v` of a float64 (strconv 'g', shortest): e-notation from exponent 6 up."""
    digits, exponent = repr(x).rstrip("0").rstrip("."), len(str(int(x))) - 1
    if exponent < 6:
        return digits
    mantissa = str(int(x)).rstrip("0")
    mantissa = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{mantissa}e+{exponent:02d}"


@pytest.mark.parametrize(
    ("n", "go"), [(12345678, "1.2345678e+07"), (1000000, "1e+06"), (123456, "123456")]
)
def test_go_v_helper_matches_the_documented_examples(n, go):
    assert _go_v(float(n)) == go


@given(st.integers(min_value=1, max_value=2**53))
def test_parse_whole_reads_ids_echoed_as_floats(n):
    # What a client that decodes JSON numbers as doubles sends back: Python's repr
    # ("23501.0") and Go's %v ("1.2345678e+07"); every integer up to 2**53 is exact.
    assert parse_whole(repr(float(n))) == n
    assert parse_whole(_go_v(float(n))) == n
    assert parse_id(_go_v(float(n))) == n


@given(
    wholes,
    st.text(alphabet="0123456789", min_size=1, max_size=8).filter(lambda s: s.strip("0")),
)
def test_parse_whole_refuses_fractions(n, frac):
    assert parse_whole(f"{n}.{frac}") is None


@given(st.integers(min_value=19, max_value=10**12), st.sampled_from(["", "-", "+"]))
def test_parse_whole_refuses_huge_exponents(exponent, sign):
    assert parse_whole(f"{sign}1e{exponent}") is None
    assert parse_whole(f"{sign}1e+{exponent}") is None


@given(st.integers(min_value=1, max_value=10**12))
def test_parse_whole_refuses_tiny_numbers(exponent):
    assert parse_whole(f"1e-{exponent}") is None


@given(st.text(max_size=60))
@example("1e9999999999999999999")
@example("-sNaN")
@example("1E+999999999999999999")
@example("0e-999999999999999999")
@example("\uff19")  # a fullwidth digit nine
def test_parse_whole_never_raises_and_agrees_with_decimal(text):
    result = parse_whole(text)
    if result is None:
        return
    assert type(result) is int
    assert abs(result) <= MAX_WHOLE
    assert Decimal(text.strip()) == result


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.floats(),
        st.binary(),
        st.lists(st.integers()),
        st.integers(min_value=-(2**70), max_value=2**70),
    )
)
def test_parse_whole_never_raises_on_other_types(value):
    result = parse_whole(value)
    assert result is None or (type(result) is int and abs(result) <= MAX_WHOLE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23501", 23501),
        ("2.3501e+04", 23501),
        ("1e+06", 1000000),
        ("1", 1),
        ("0", None),
        ("0.0", None),
        ("-0", None),
        ("-1", None),
        ("-2.3501e+04", None),
        ("1.5", None),
        ("", None),
        ("x", None),
        (None, None),
    ],
)
def test_parse_id(text, expected):
    assert parse_id(text) == expected


@given(positive)
def test_parse_id_reads_every_positive_id(n):
    assert parse_id(str(n)) == n
    assert parse_id(f"{n}.0") == n


@given(st.integers(min_value=-MAX_WHOLE, max_value=0))
def test_parse_id_refuses_zero_and_negatives(n):
    assert parse_id(str(n)) is None


@given(st.text(max_size=60))
def test_parse_id_never_raises(text):
    result = parse_id(text)
    assert result is None or 0 < result <= MAX_WHOLE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,2,3", ["1", "2", "3"]),
        ("1, 2, 3", ["1", "2", "3"]),
        (" 1 ,,2, ", ["1", "2"]),
        ("", []),
        (",", []),
        ("2.3501e+04,1", ["2.3501e+04", "1"]),
    ],
)
def test_split_list(text, expected):
    assert split_list(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\r\nb\nc", ["a", "b", "c"]),
        ("a\n\n  \nb\r\n", ["a", "b"]),
        (" nice post \r\n", ["nice post"]),
        ("", []),
        ("\r\n\r\n", []),
    ],
)
def test_split_lines(text, expected):
    assert split_lines(text) == expected
