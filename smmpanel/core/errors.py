"""Domain errors. Services raise them; the API and admin turn them into messages.

The message of an error raised to an API client is sent to it word for word, so the ones
clients match on (see api-v2.md) live here as constants, spelled exactly once.
"""

from __future__ import annotations


class PanelError(Exception):
    """A request the panel refuses, with the message the caller sees."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConflictError(PanelError):
    """Someone else changed the row first (a lost race); nothing was written."""


INVALID_KEY = "Invalid API key"
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE = "Incorrect service ID"
BAD_LINK = "Bad link"
QUANTITY_LESS = "Quantity less than minimal {min}"
QUANTITY_MORE = "Quantity more than maximum {max}"
NOT_ENOUGH_FUNDS = "Not enough funds on balance"
ACTIVE_ORDER_LINK = "You have active order with this link. Please wait until order being completed."
INCORRECT_ORDER = "Incorrect order ID"
REFILL_NOT_FOUND = "Refill not found"
REFILL_UNAVAILABLE = "Refill is not available for this service"
REFILL_NOT_COMPLETED = "Order is not completed"
REFILL_PERIOD_OVER = "Refill period is over"
REFILL_RUNNING = "A refill is already in progress for this order"
CANCEL_UNAVAILABLE = "Cancel is not available for this service"
CANCEL_FINISHED = "Order is already finished"
CANCEL_REQUESTED = "Cancel is already requested for this order"
