"""API v2: one endpoint, a table of actions, every answer HTTP 200 JSON.

Handlers raise `PanelError` for anything the client should read as `{"error": ...}`; this
module is the one place that turns them into replies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from smmpanel.accounts.models import Customer
from smmpanel.accounts.selectors import customer_by_api_key
from smmpanel.api_v2 import actions
from smmpanel.api_v2.params import Params, request_params
from smmpanel.core.errors import INCORRECT_REQUEST, INVALID_KEY, PanelError

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


@csrf_exempt
def api_v2(request: HttpRequest) -> JsonResponse:
    try:
        params = request_params(request)
    except PanelError as exc:
        return error(exc.message)
    # SuspiciousOperation covers RequestDataTooBig, TooManyFieldsSent and TooManyFilesSent:
    # Django would answer those with an HTML 400.
    except (SuspiciousOperation, MultiPartParserError, BadRequest):
        return error("The request body could not be read: malformed or too large")

    key = params.get("key", "").strip()
    try:
        customer = customer_by_api_key(key) if key else None
        if customer is None:
            return error(INVALID_KEY)
        handler = ACTIONS.get(params.get("action", "").strip().lower())
        if handler is None:
            return error(INCORRECT_REQUEST)
        return _reply(handler(customer, params))
    except PanelError as exc:
        return error(exc.message)
    except DatabaseError:
        log.exception("database error in api_v2 action=%r", params.get("action"))
        return error("The panel is busy, please try again")
    except Exception:
        # A defect: log it loudly, but never hand a client an HTML 500.
        log.exception("unhandled error in api_v2 action=%r", params.get("action"))
        return error("Internal error, please try again later")
