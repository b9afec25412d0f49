"""API v2: one endpoint, a table of actions, every answer HTTP 200 JSON.

Handlers raise `PanelError` for anything the client should read as `{"error": ...}`; this
module is the one place that turns them into replies.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import Error as DatabaseFailure
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from smmpanel.accounts.models import Customer
from smmpanel.accounts.selectors import customer_by_api_key
from smmpanel.api_v2 import actions
from smmpanel.api_v2.db_errors import BUSY, DOWN, is_transient
from smmpanel.api_v2.params import Params, request_params
from smmpanel.core import ratelimit
from smmpanel.core.errors import TEXTS, ErrorCode, PanelError

log = logging.getLogger(__name__)

Handler = Callable[[Customer, Params], Any]

#: action -> handler(customer, params) -> the JSON-able reply.
ACTIONS: dict[str, Handler] = {
    "services": actions.services,
    "add": actions.add,
    "status": actions.status,
    "refill": actions.refill,
    "refill_status": actions.refill_status,
    "cancel": actions.cancel,
    "balance": actions.balance,
}


def _reply(data: Any) -> JsonResponse:
    # safe=False: several actions answer with a JSON list.
    return JsonResponse(data, safe=False, json_dumps_params={"separators": (",", ":")})


def error(message: str) -> JsonResponse:
    return _reply({"error": message})


def _action(params: Params) -> str:
    """The action asked for. With none, the refill calls of the example API class panels
    publish (and resellers copy), which leave it out: `order`/`orders` without `service`
    is a refill, `refill`/`refills` its status; a request that is both is neither."""
    action = params.get("action", "").strip().lower()
    if action:
        return action

    def sent(*names: str) -> bool:
        return any(params.get(name, "").strip() for name in names)

    orders, refills = sent("order", "orders"), sent("refill", "refills")
    if orders and not refills and "service" not in params:
        return "refill"
    if refills and not orders:
        return "refill_status"
    return ""


class TooManyRequests(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


@functools.lru_cache(maxsize=16)
def _limit(text: str) -> ratelimit.Limit:
    return ratelimit.Limit.parse(text)


def _throttle(scope: str, ident: str, setting: str, *, count: bool = True) -> None:
    limit = _limit(str(getattr(settings, setting)))
    check = ratelimit.hit if count else ratelimit.exceeded
    if (retry_after := check(scope, ident, limit)) is not None:
        raise TooManyRequests(retry_after)


def _dispatch(params: Params, address: str) -> Any:
    # An address that has guessed too many wrong keys waits, before its next guess is read.
    _throttle("api-bad-key", address, "API_RATE_BAD_KEYS", count=False)
    key = params.get("key", "").strip()
    customer = customer_by_api_key(key) if key else None
    if customer is None:
        if key:  # a guess; a request with no key at all guesses nothing
            _throttle("api-bad-key", address, "API_RATE_BAD_KEYS")
        raise PanelError(ErrorCode.INVALID_KEY)
    _throttle("api-key", key, "API_RATE_PER_KEY")
    handler = ACTIONS.get(_action(params))
    if handler is None:
        raise PanelError(ErrorCode.INCORRECT_REQUEST)
    return handler(customer, params)


@csrf_exempt
def api_v2(request: HttpRequest) -> JsonResponse:
    params: Params = {}
    try:
        address = ratelimit.client_address(request)
        _throttle("api-address", address, "API_RATE_PER_ADDRESS")
        params = request_params(request)
        return _reply(_dispatch(params, address))
    except TooManyRequests as exc:
        # HTTP 200 like every other answer (panel clients read only the JSON), and the
        # standard header for the clients that look.
        response = error(TEXTS[ErrorCode.TOO_MANY_REQUESTS])
        response["Retry-After"] = str(exc.retry_after)
        return response
    except PanelError as exc:
        return error(exc.message)
    # SuspiciousOperation covers RequestDataTooBig, TooManyFieldsSent and TooManyFilesSent:
    # Django would answer those with an HTML 400.
    except (SuspiciousOperation, MultiPartParserError, BadRequest):
        return error("The request body could not be read: malformed or too large")
    except DatabaseFailure as exc:
        action = params.get("action", "")[:40]
        if is_transient(exc):
            log.warning("api_v2 action=%r: database busy, the client may retry: %s", action, exc)
            return error(BUSY)
        log.error(
            "api_v2 action=%r: a database failure retries will not clear: %s",
            action,
            exc,
            exc_info=exc,
        )
        return error(DOWN)
    except Exception:
        # A defect: log it loudly, but never hand a client an HTML 500.
        log.exception("unhandled error in api_v2 action=%r", params.get("action", "")[:40])
        return error("Internal error, please try again later")
