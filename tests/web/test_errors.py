"""Every refusal a customer can meet has words on the pages, with only the placeholders
its API text has."""

import string

import pytest
from django.utils import translation

from smmpanel.core.errors import TEXTS, ErrorCode, PanelError
from smmpanel.web.errors import WORDS, error_message


def _names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_code_has_words_with_the_apis_placeholders(code: ErrorCode) -> None:
    assert code in WORDS
    assert _names(str(WORDS[code])) <= _names(TEXTS[code])


def test_the_words_fill_in_the_errors_numbers() -> None:
    error = PanelError(ErrorCode.QUANTITY_LESS, field="quantity", min=100)
    with translation.override("en"):
        assert error_message(error) == "The minimum quantity is 100."


def test_an_operators_english_error_is_shown_as_written() -> None:
    assert error_message(PanelError("The username 'a' is taken")) == "The username 'a' is taken"
