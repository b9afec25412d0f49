"""Reading a request's parameters from any of the four ways clients send them."""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest

from smmpanel.core.errors import ErrorCode, PanelError

#: A parameter map: name -> the value as a string, as it would arrive form-encoded.
Params = dict[str, str]

#: The deepest JSON body read. A parameter map is an object holding lists at most; far
#: deeper, parsing and flattening would recurse until Python gives up mid-request.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_ONE_KIND = str.maketrans("{}", "[]")


def _as_text(value: Any) -> str:
    """JSON bodies carry numbers, booleans and lists; the form-encoded wire has strings."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return ",".join(_as_text(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _check_nesting(text: str) -> None:
    """Refuse a body nested deeper than MAX_JSON_DEPTH before anything recurses into it.

    Measured without recursion: strings blanked out, the brackets left made one kind, then
    the innermost pairs peeled, one level per round. A run of opening brackets longer than
    the levels still allowed is too deep (the usual attack, caught in the first round); a
    bracket left that never pairs up is malformed."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).translate(_ONE_KIND)
    for peeled in range(MAX_JSON_DEPTH + 1):
        if "[" * (MAX_JSON_DEPTH + 1 - peeled) in brackets:
            raise PanelError(ErrorCode.JSON_TOO_DEEP, depth=MAX_JSON_DEPTH)
        shorter = brackets.replace("[]", "")
        if shorter == brackets:
            break
        brackets = shorter
    if brackets:
        raise PanelError(ErrorCode.MALFORMED_BODY)


def _json_body(request: HttpRequest) -> Params:
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PanelError(ErrorCode.MALFORMED_BODY) from exc
    _check_nesting(text)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PanelError(ErrorCode.MALFORMED_BODY) from exc
    if not isinstance(data, dict):
        raise PanelError(ErrorCode.JSON_NOT_OBJECT)
    if not isinstance(data.get("key", ""), str):
        # A list would flatten to its one element and authenticate: a key is a string.
        raise PanelError(ErrorCode.INVALID_KEY)
    return {str(k): _as_text(v) for k, v in data.items()}


def request_params(request: HttpRequest) -> Params:
    """Query string first, then the body (form, multipart or JSON) over it.

    Raises PanelError for a body that cannot be read (malformed, too big, too many fields).
    """
    params: Params = {k: request.GET[k] for k in request.GET}
    content_type = (request.content_type or "").lower()
    if request.method in ("GET", "HEAD"):
        return params
    body_is_json = "json" in content_type
    # A JSON object sent with no type, as text, or labelled as a form: PHP's curl labels a
    # json_encode()d CURLOPT_POSTFIELDS string application/x-www-form-urlencoded.
    if not body_is_json and content_type in (
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
    ):
        body_is_json = request.body.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"
    if body_is_json:
        params.update(_json_body(request))
    else:
        params.update({k: request.POST[k] for k in request.POST})
    return params
