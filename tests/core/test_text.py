"""Text that can be stored and passed on: `text_problem` finds what cannot (issue 13, item 7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.core.parsing import text_problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00b", "NUL"),
        ("\ud800", "lone surrogate"),
        ("half an emoji \ud83d", "lone surrogate"),
        ("\ude00 low half", "lone surrogate"),
        ("caf\ufffd", "U+FFFD"),
    ],
)
def test_what_cannot_be_stored_is_named(text, problem):
    found = text_problem(text)
    assert found is not None and problem in found


@pytest.mark.parametrize("text", ["", "plain", "emoji 😀 whole", "\U0001f600", "пример", "\r\n\t"])
def test_ordinary_text_has_no_problem(text):
    assert text_problem(text) is None


#: Any code point, surrogates included (hypothesis leaves them out by default).
ANY_TEXT = st.text(st.characters(exclude_categories=()))


@given(ANY_TEXT)
def test_no_problem_means_encodable_and_free_of_nul(text):
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert (text_problem(text) is None) == (
        not surrogate and "\x00" not in text and "\ufffd" not in text
    )
    if text_problem(text) is None:
        text.encode("utf-8")


@given(ANY_TEXT, st.integers(0xD800, 0xDFFF), ANY_TEXT)
def test_a_surrogate_anywhere_is_found(before, code, after):
    assert text_problem(before + chr(code) + after) is not None
