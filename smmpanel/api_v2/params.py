"""Reading a request's parameters from any of the four ways clients send them."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest

from smmpanel.core.errors import PanelError

#: A parameter map: name -> the value as a string, as it would arrive form-encoded.
Params = dict[str, str]


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


def _json_body(request: HttpRequest) -> Params:
    try:
        data = json.loads(request.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: a deeply nested body ("[[[[…") is garbage too, not a 500.
        raise PanelError("Malformed JSON body") from exc
    if not isinstance(data, dict):
        raise PanelError("The JSON body must be an object of parameters")
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
