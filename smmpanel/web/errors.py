"""A domain refusal in the customer's language.

Services raise `PanelError` with an `ErrorCode`; the API sends API v2's fixed English
(`core.errors.TEXTS`), and the pages say the same thing through these translatable words,
with the same `{placeholders}`. An error without a code is shown as it was written.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from smmpanel.core.errors import ErrorCode, PanelError

C = ErrorCode

WORDS: dict[ErrorCode, Promise] = {
    C.INVALID_KEY: _("Invalid API key"),
    C.TOO_MANY_REQUESTS: _("Too many requests. Please wait a moment and try again."),
    C.INCORRECT_REQUEST: _("Incorrect request"),
    C.MALFORMED_BODY: _("Malformed request"),
    C.JSON_TOO_DEEP: _("Malformed request"),
    C.JSON_NOT_OBJECT: _("Malformed request"),
    C.TOO_MANY_IDS: _("Too many IDs: at most {limit} at once"),
    C.MISSING_PARAMETER: _("This field is required."),
    C.INCORRECT_SERVICE: _("Choose a service from the list."),
    C.BAD_LINK: _("This link is not accepted."),
    C.NOT_A_WHOLE_NUMBER: _("Enter a whole number."),
    C.BELOW_MINIMUM: _("Must be at least {minimum}."),
    C.TEXT_TOO_LONG: _("Longer than {size} characters."),
    C.TEXT_UNREADABLE: _("This text cannot be read: {problem}"),
    C.NOT_A_LINK: _("Enter a link (https://...)."),
    C.NOT_A_USERNAME: _("Enter a username (letters, digits, '.', '_', '-') or a profile link."),
    C.NOT_A_USERNAME_LINE: _(
        "Line {line} is not a username (letters, digits, '.', '_', '-') or a profile link."
    ),
    C.QUANTITY_LESS: _("The minimum quantity is {min}."),
    C.QUANTITY_MORE: _("The maximum quantity is {max}."),
    C.MIN_ABOVE_MAX: _("Must not be greater than the maximum."),
    C.DELAY_NOT_OFFERED: _("Choose one of {allowed}."),
    C.EXPIRY_FORMAT: _("Enter a date as day/month/year, like 31/12/2026."),
    C.EXPIRY_PASSED: _("This date has passed."),
    C.DRIPFEED_UNAVAILABLE: _("Drip-feed is not available for this service."),
    C.NOT_ENOUGH_FUNDS: _("Not enough funds on your balance."),
    C.ACTIVE_ORDER_LINK: _(
        "You have an active order with this link. Please wait until it is completed."
    ),
    C.INCORRECT_ORDER: _("Order not found."),
    C.REFILL_NOT_FOUND: _("Refill not found."),
    C.REFILL_UNAVAILABLE: _("Refill is not available for this service."),
    C.REFILL_NOT_COMPLETED: _("The order is not completed."),
    C.REFILL_PERIOD_OVER: _("The refill period is over."),
    C.REFILL_RUNNING: _("A refill is already in progress for this order."),
    C.CANCEL_UNAVAILABLE: _("Cancel is not available for this service."),
    C.CANCEL_FINISHED: _("The order is already finished."),
    C.CANCEL_REQUESTED: _("A cancel is already requested for this order."),
    C.PAYMENT_METHOD_UNAVAILABLE: _("This payment method is not available."),
    C.PAYMENT_AMOUNT_INVALID: _("Enter an amount with at most {places} decimals."),
    C.PAYMENT_AMOUNT_LESS: _("The minimum amount is {min}."),
    C.PAYMENT_AMOUNT_MORE: _("The maximum amount is {max}."),
    C.PAYMENT_REFERENCE_MISSING: _("Enter the reference of your transfer."),
    C.PAYMENT_GATEWAY_FAILED: _("The payment could not be started. Please try again later."),
}


def error_message(error: PanelError) -> str:
    """What to show a customer for `error`, in the active language."""
    if error.code is None:
        return error.message
    try:
        return str(WORDS[error.code]).format(field=error.field, **error.params)
    except (KeyError, IndexError):  # a placeholder the words need but the error lacks
        return error.message
