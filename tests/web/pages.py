"""What the page tests of tickets, services, API and account share: reading a form's fields
off a page (to post it as a browser would) and counting a page's queries."""

from __future__ import annotations

from html.parser import HTMLParser

from django.db import connection
from django.test.utils import CaptureQueriesContext


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "checkbox"}:
            self.values[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def form_values(html: str) -> dict[str, str]:
    """Every named input and textarea of a page, as a browser would send them unchanged."""
    parser = _Inputs()
    parser.feed(html)
    return parser.values


def queries(client, url: str) -> int:
    """How many queries a GET of `url` costs."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)
