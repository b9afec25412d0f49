"""Domain errors. Services raise them; the API, the admin and the console show them.

A refusal a customer can meet carries an `ErrorCode` (and the parameter at fault, and the
numbers its text needs), so each front end words it its own way: a web page translates
the code, the API sends `TEXTS`' words. Those are API v2's exact strings (api-v2.md):
clients match on them word for word, so they are spelled here once, and the API's
contract tests pin them. An error with no code is operator-facing English.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """What was refused, for a caller to act on or word; stable across releases."""

    INVALID_KEY = "invalid_key"
    TOO_MANY_REQUESTS = "too_many_requests"
    INCORRECT_REQUEST = "incorrect_request"
    MALFORMED_BODY = "malformed_body"
    JSON_TOO_DEEP = "json_too_deep"
    JSON_NOT_OBJECT = "json_not_object"
    TOO_MANY_IDS = "too_many_ids"
    MISSING_PARAMETER = "missing_parameter"
    INCORRECT_SERVICE = "incorrect_service"
    BAD_LINK = "bad_link"
    NOT_A_WHOLE_NUMBER = "not_a_whole_number"
    BELOW_MINIMUM = "below_minimum"
    TEXT_TOO_LONG = "text_too_long"
    TEXT_UNREADABLE = "text_unreadable"
    NOT_A_LINK = "not_a_link"
    NOT_A_USERNAME = "not_a_username"
    NOT_A_USERNAME_LINE = "not_a_username_line"
    QUANTITY_LESS = "quantity_less"
    QUANTITY_MORE = "quantity_more"
    MIN_ABOVE_MAX = "min_above_max"
    DELAY_NOT_OFFERED = "delay_not_offered"
    EXPIRY_FORMAT = "expiry_format"
    EXPIRY_PASSED = "expiry_passed"
    DRIPFEED_UNAVAILABLE = "dripfeed_unavailable"
    NOT_ENOUGH_FUNDS = "not_enough_funds"
    ACTIVE_ORDER_LINK = "active_order_link"
    INCORRECT_ORDER = "incorrect_order"
    REFILL_NOT_FOUND = "refill_not_found"
    REFILL_UNAVAILABLE = "refill_unavailable"
    REFILL_NOT_COMPLETED = "refill_not_completed"
    REFILL_PERIOD_OVER = "refill_period_over"
    REFILL_RUNNING = "refill_running"
    CANCEL_UNAVAILABLE = "cancel_unavailable"
    CANCEL_FINISHED = "cancel_finished"
    CANCEL_REQUESTED = "cancel_requested"
    # Adding funds (the customer's payment pages; not API v2 actions).
    PAYMENT_METHOD_UNAVAILABLE = "payment_method_unavailable"
    PAYMENT_AMOUNT_INVALID = "payment_amount_invalid"
    PAYMENT_AMOUNT_LESS = "payment_amount_less"
    PAYMENT_AMOUNT_MORE = "payment_amount_more"
    PAYMENT_REFERENCE_MISSING = "payment_reference_missing"
    PAYMENT_GATEWAY_FAILED = "payment_gateway_failed"


C = ErrorCode
_USERNAME = "not a username (letters, digits, '.', '_', '-', after an optional '@')"

#: The words of each code, with `{field}` and the error's params filled in.
TEXTS: dict[ErrorCode, str] = {
    C.INVALID_KEY: "Invalid API key",
    C.TOO_MANY_REQUESTS: "Too many requests",
    C.INCORRECT_REQUEST: "Incorrect request",
    C.MALFORMED_BODY: "Malformed JSON body",
    C.JSON_TOO_DEEP: "Malformed JSON body: nested deeper than {depth} levels",
    C.JSON_NOT_OBJECT: "The JSON body must be an object of parameters",
    C.TOO_MANY_IDS: "Too many IDs in {field}: at most {limit} per request",
    C.MISSING_PARAMETER: "Missing required parameter: {field}",
    C.INCORRECT_SERVICE: "Incorrect service ID",
    C.BAD_LINK: "Bad link",
    C.NOT_A_WHOLE_NUMBER: "Invalid {field}: expected a whole number",
    C.BELOW_MINIMUM: "Invalid {field}: must be at least {minimum}",
    C.TEXT_TOO_LONG: "Invalid {field}: longer than {size} characters",
    C.TEXT_UNREADABLE: "Invalid {field}: {problem}",
    C.NOT_A_LINK: "Invalid {field}: not a link (https://...)",
    C.NOT_A_USERNAME: "Invalid {field}: " + _USERNAME + " or a link to the account",
    C.NOT_A_USERNAME_LINE: "Invalid {field}: line {line} is " + _USERNAME + " or a link",
    C.QUANTITY_LESS: "Quantity less than minimal {min}",
    C.QUANTITY_MORE: "Quantity more than maximum {max}",
    C.MIN_ABOVE_MAX: "Invalid {field}: must not be greater than max",
    C.DELAY_NOT_OFFERED: "Invalid {field}: must be one of {allowed}",
    C.EXPIRY_FORMAT: "Invalid {field}: expected a date as d/m/Y, like 31/12/2026",
    C.EXPIRY_PASSED: "Invalid {field}: the date has passed",
    C.DRIPFEED_UNAVAILABLE: "Drip-feed is not available for this service",
    C.NOT_ENOUGH_FUNDS: "Not enough funds on balance",
    C.ACTIVE_ORDER_LINK: (
        "You have active order with this link. Please wait until order being completed."
    ),
    C.INCORRECT_ORDER: "Incorrect order ID",
    C.REFILL_NOT_FOUND: "Refill not found",
    C.REFILL_UNAVAILABLE: "Refill is not available for this service",
    C.REFILL_NOT_COMPLETED: "Order is not completed",
    C.REFILL_PERIOD_OVER: "Refill period is over",
    C.REFILL_RUNNING: "A refill is already in progress for this order",
    C.CANCEL_UNAVAILABLE: "Cancel is not available for this service",
    C.CANCEL_FINISHED: "Order is already finished",
    C.CANCEL_REQUESTED: "Cancel is already requested for this order",
    C.PAYMENT_METHOD_UNAVAILABLE: "This payment method is not available",
    C.PAYMENT_AMOUNT_INVALID: "Invalid {field}: expected an amount with at most {places} decimals",
    C.PAYMENT_AMOUNT_LESS: "Amount less than minimal {min}",
    C.PAYMENT_AMOUNT_MORE: "Amount more than maximum {max}",
    C.PAYMENT_REFERENCE_MISSING: "Missing required parameter: {field}",
    C.PAYMENT_GATEWAY_FAILED: "The payment could not be started, please try again later",
}

#: A fixed text given where a code belongs (callers not yet moved to codes) still codes.
_CODE_OF_TEXT = {text: code for code, text in TEXTS.items() if "{" not in text}


class PanelError(Exception):
    """A request the panel refuses: its `code` (None for an operator's English message),
    the parameter at fault (`field`) and the values its words need (`params`)."""

    def __init__(self, code: ErrorCode | str, /, *, field: str = "", **params: object) -> None:
        if not isinstance(code, ErrorCode):
            message = code
            coded = _CODE_OF_TEXT.get(code)
        else:
            message = TEXTS[code].format(field=field, **params)
            coded = code
        super().__init__(message)
        self.code: ErrorCode | None = coded
        self.field = field
        self.params = params
        self.message = message


class ConflictError(PanelError):
    """Someone else changed the row first (a lost race); nothing was written."""


# The texts by the names callers and tests have long used.
INVALID_KEY = TEXTS[C.INVALID_KEY]
INCORRECT_REQUEST = TEXTS[C.INCORRECT_REQUEST]
INCORRECT_SERVICE = TEXTS[C.INCORRECT_SERVICE]
BAD_LINK = TEXTS[C.BAD_LINK]
QUANTITY_LESS = TEXTS[C.QUANTITY_LESS]
QUANTITY_MORE = TEXTS[C.QUANTITY_MORE]
NOT_ENOUGH_FUNDS = TEXTS[C.NOT_ENOUGH_FUNDS]
ACTIVE_ORDER_LINK = TEXTS[C.ACTIVE_ORDER_LINK]
INCORRECT_ORDER = TEXTS[C.INCORRECT_ORDER]
REFILL_NOT_FOUND = TEXTS[C.REFILL_NOT_FOUND]
REFILL_UNAVAILABLE = TEXTS[C.REFILL_UNAVAILABLE]
REFILL_NOT_COMPLETED = TEXTS[C.REFILL_NOT_COMPLETED]
REFILL_PERIOD_OVER = TEXTS[C.REFILL_PERIOD_OVER]
REFILL_RUNNING = TEXTS[C.REFILL_RUNNING]
CANCEL_UNAVAILABLE = TEXTS[C.CANCEL_UNAVAILABLE]
CANCEL_FINISHED = TEXTS[C.CANCEL_FINISHED]
CANCEL_REQUESTED = TEXTS[C.CANCEL_REQUESTED]
