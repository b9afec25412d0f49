"""`redact_keys`: the value of every `key=` query parameter leaves a log line; nothing else
does (issue 13, item 11). The servers themselves are run in tests/api_v2/test_key_not_logged.py."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.core.redaction import RedactKeys, redact_keys

KEY = "3f2c9a0b1d4e5f60718293a4b5c6d7e8"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'"GET /api/v2?key={KEY}&action=balance HTTP/1.1" 200',
         '"GET /api/v2?key=[redacted]&action=balance HTTP/1.1" 200'),
        (f"GET /api/v2/?action=status&order=1&key={KEY}",
         "GET /api/v2/?action=status&order=1&key=[redacted]"),
        (f"key={KEY}&action=balance", "key=[redacted]&action=balance"),  # a bare query string
        (f"/api/v2?k%65y={KEY}", "/api/v2?k%65y=[redacted]"),
        (f"/api/v2?KEY={KEY}", "/api/v2?KEY=[redacted]"),
        (f"/api/v2?key={KEY}#frag", "/api/v2?key=[redacted]#frag"),
        (f"/a?key={KEY}&key={KEY}", "/a?key=[redacted]&key=[redacted]"),
        (f"/a?action=balance;key={KEY}", "/a?action=balance;key=[redacted]"),
        (f'referer "http://example.com/?key={KEY}"', 'referer "http://example.com/?key=[redacted]"'),
        ("/api/v2?key=", "/api/v2?key=[redacted]"),
        ("/api/v2?monkey=banana&keys=1&key_id=2", "/api/v2?monkey=banana&keys=1&key_id=2"),
        ("no query at all", "no query at all"),
    ],
)  # fmt: skip
def test_key_values_are_redacted_and_nothing_else(line, expected):
    assert redact_keys(line) == expected


#: What a request line's parameter value can hold (servers refuse controls and spaces).
TOKEN = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="&;#\"'"))


@given(value=TOKEN.filter(bool), before=TOKEN, after=TOKEN)
def test_no_key_value_survives(value, before, after):
    line = f'"GET /api/v2?a={before}&key={value}&b={after} HTTP/1.1" 200'
    redacted = redact_keys(line)
    assert f"key={value}&" not in redacted
    assert "&key=[redacted]&" in redacted


def test_the_filter_rewrites_the_record_and_keeps_it():
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s', (f"GET /?key={KEY}", "200"), None
    )
    assert RedactKeys().filter(record) is True
    assert record.getMessage() == '"GET /?key=[redacted]" 200'


def test_a_record_that_cannot_be_formatted_is_left_for_its_handler():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("one",), None)
    assert RedactKeys().filter(record) is True
    assert record.args == ("one",)


def test_every_handler_that_prints_redacts():
    from django.conf import settings

    handlers = settings.LOGGING["handlers"]
    assert handlers and all("redact_keys" in h.get("filters", []) for h in handlers.values())
    for name in ("", "django.server"):
        # (pytest adds its own capturing handlers to the root logger; those are not ours.)
        printing = [h for h in logging.getLogger(name).handlers if type(h) is logging.StreamHandler]
        assert printing, name
        assert all(any(isinstance(f, RedactKeys) for f in h.filters) for h in printing), name
