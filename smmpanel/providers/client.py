"""A typed client for the standard SMM panel API v2 (the one `api-v2.md` describes).

It speaks to any panel that serves API v2 — ours or an upstream provider — and depends on
nothing but `httpx` and the standard library (no Django), so a customer's script can copy
this one file and use it as it is::

    from smmpanel.providers.client import ProviderClient, ProviderRefused

    with ProviderClient("https://panel.example/api/v2", "YOUR-API-KEY") as panel:
        print(panel.balance())        # RemoteBalance(balance=Decimal('100.84292'), currency='USD')
        for s in panel.services():
            print(s.service, s.name, s.rate, s.min, s.max)
        try:
            order = panel.add(1, link="https://instagram.com/some.account", quantity=1000)
        except ProviderRefused as exc:
            print("refused:", exc.message)  # e.g. "Not enough funds on balance"
        else:
            print(panel.status(order).status)   # "Pending"
            print(panel.statuses([order, 42]))  # {order: RemoteStatus(...), 42: RemoteError(...)}

What it guarantees:

- Requests are `POST`, form-encoded, every value a string (what PHP clients send); explicit
  timeouts, TLS verification on, redirects never followed, one fixed User-Agent.
- Money is `Decimal` and never passes through a float (JSON is parsed with
  `parse_float=Decimal`); counts and ids are `int`. The ugly real-world variants are read:
  ids as strings or floats (`"23501"`, `23501.0`, `2.3501e+04`), money and counts as numbers
  or strings, booleans as `true`/`1`/`"1"`.
- Multi actions are split into requests of at most 100 ids.
- Every failure is a `ProviderError` whose class says what the caller may do next
  (see the table on `ProviderError`). The API key never appears in a message or a repr.
- Nothing is retried here: the caller decides, because only it knows whether a resend is safe.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import httpx

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_USER_AGENT",
    "MAX_IDS",
    "ProviderAuthFailed",
    "ProviderBadReply",
    "ProviderClient",
    "ProviderError",
    "ProviderRefused",
    "ProviderTimeout",
    "ProviderTurnedAway",
    "ProviderUnreachable",
    "RemoteBalance",
    "RemoteError",
    "RemoteService",
    "RemoteStatus",
]

#: connect/pool are short (nothing was sent yet); read is long enough for a slow catalog.
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0, read=20.0, write=10.0, pool=5.0)
DEFAULT_USER_AGENT = "smmpanel/0.1 (+api-v2 client)"
#: The most ids one multi request carries (the API's own limit).
MAX_IDS = 100
#: A reply bigger than this is refused, not buffered (a catalog of 10 000 services is ~3 MB).
MAX_REPLY_BYTES = 32 * 1024 * 1024
#: Ids and counts beyond this are not numbers a panel means (and keep int() cheap).
_MAX_WHOLE = 2**63 - 1
#: Amounts beyond this (in absolute value) are not money a panel means.
_MAX_MONEY = Decimal(10) ** 15
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_T = TypeVar("_T")


# --------------------------------------------------------------------------- exceptions


class ProviderError(Exception):
    """A call to the panel did not produce a usable answer. The class says why, and whether
    the request may have been processed by the panel's API:

    ======================  ================  ===============================================
    class                   may_have_reached  meaning / what to do
    ======================  ================  ===============================================
    ProviderUnreachable     False             surely never processed: it never left us
                                              (connect/DNS/TLS/pool failure). Always safe to
                                              retry, even an ``add``.
    ProviderTurnedAway      False             a ProviderUnreachable: something in front of
                                              the API answered instead of it (a redirect, a
                                              proxy's or firewall's 4xx, a rate limiter's
                                              429, a 503 with Retry-After). ``retry_after``
                                              is how long it asked us to wait, if it said.
    ProviderTimeout         True              sent, no complete answer: an ``add`` MAY EXIST
                                              upstream — never resend it blindly.
    ProviderBadReply        True              answered with something unusable (a 5xx from
                                              the application, an unreadable 200): an
                                              ``add`` MAY EXIST upstream.
    ProviderRefused         False             a well-formed ``{"error": ...}``: the panel
                                              refused, nothing was created. ``retryable``
                                              says whether the same request may succeed later.
    ProviderAuthFailed      False             ``Invalid API key`` (a ProviderRefused).
    ======================  ================  ===============================================

    ``may_have_reached`` is the one attribute to consult before resending an ``add``:
    when it is True, the order may exist upstream and must wait for a decision.
    """

    #: True when the request may have been processed by the panel (see the table above).
    may_have_reached: bool = True
    #: Seconds the panel (or what stands in front of it) asked us to wait before asking
    #: again (its Retry-After), when it said; None otherwise.
    retry_after: float | None = None

    def __init__(self, message: str, *, action: str | None = None) -> None:
        super().__init__(message)
        #: The API action that failed ("add", "status"...).
        self.action = action


class ProviderUnreachable(ProviderError):
    """The request certainly never reached the panel: connect refused or timed out, DNS
    failure, TLS handshake failure, no free connection in the pool. Always safe to retry."""

    may_have_reached = False


class ProviderTimeout(ProviderError):
    """The request left, but no complete answer came back: read or write timeout, the
    connection dropped after sending, a malformed HTTP response. The panel MAY HAVE
    PROCESSED IT: an ``add`` that ends here may exist upstream and must not be resent blindly.
    """

    may_have_reached = True


class ProviderTurnedAway(ProviderUnreachable):
    """The request never got to the panel's API: whatever stands in front of it answered
    instead — a redirect (never followed: fix the API URL), a proxy's or firewall's 403, a
    404, a rate limiter's 429, a load balancer's 503 with Retry-After, a CDN that could not
    connect to the panel's server. Nothing was processed, so it is as safe to retry as any
    ProviderUnreachable; ``status_code`` says what answered, ``retry_after`` how long it
    asked us to wait (when it said)."""

    may_have_reached = False

    def __init__(
        self,
        message: str,
        *,
        action: str | None = None,
        status_code: int,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, action=action)
        #: The HTTP status of the reply.
        self.status_code = status_code
        self.retry_after = retry_after


class ProviderBadReply(ProviderError):
    """The panel answered, but not with JSON of the expected shape: a 5xx from the
    application, a 200 with an HTML page, malformed or truncated JSON, a list where an
    object belongs, a missing or unreadable field, an unexpected 2xx. The request may have
    been processed: an ``add`` that ends here MAY EXIST upstream.

    (A status that only what stands in front of the API gives — 3xx, 4xx, a 503 with
    Retry-After — is a ProviderTurnedAway instead.)
    """

    may_have_reached = True

    def __init__(
        self, message: str, *, action: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message, action=action)
        #: The HTTP status of the reply (200 when the body was the problem).
        self.status_code = status_code


#: Refusals about the provider's passing state, not about the request (matched lower-case).
_RETRYABLE_HINTS = (
    "not enough funds",
    "too many requests",
    "try again",
    "temporarily",
    "maintenance",
    # Another order for the same link is still running there (another of our customers'):
    # it is accepted once that one ends.
    "active order with this link",
)
_AUTH_FAILED = re.compile(r"invalid\s+api\s+key", re.IGNORECASE)


class ProviderRefused(ProviderError):
    """A well-formed ``{"error": "..."}`` reply; ``message`` is the panel's own text.

    Nothing was created by the refused request (``may_have_reached`` is False). ``retryable``
    is True when the text is about the panel's passing state ("Not enough funds", "Too many
    requests", "try again", "temporarily", "maintenance") rather than about the request.
    """

    may_have_reached = False

    def __init__(self, message: str, *, action: str | None = None) -> None:
        where = f"{action}: " if action else ""
        super().__init__(f"{where}provider refused: {message}", action=action)
        self.message = message

    @property
    def retryable(self) -> bool:
        text = self.message.casefold()
        return any(hint in text for hint in _RETRYABLE_HINTS)


class ProviderAuthFailed(ProviderRefused):
    """``Invalid API key``: the key is wrong, revoked, or the panel has blocked it.
    Not retryable by itself; someone must fix the key."""

    @property
    def retryable(self) -> bool:
        return False


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class RemoteError:
    """A per-item error inside a multi reply (``{"error": "Incorrect order ID"}``)."""

    message: str

    @property
    def retryable(self) -> bool:
        """The text is about the panel's passing state, as for ProviderRefused."""
        text = self.message.casefold()
        return any(hint in text for hint in _RETRYABLE_HINTS)


@dataclass(frozen=True, slots=True)
class RemoteService:
    """One entry of ``services``; ``rate`` is the price per 1000 for this key's customer."""

    service: int
    name: str
    type: str
    category: str
    rate: Decimal
    min: int
    max: int
    refill: bool = False
    cancel: bool = False
    dripfeed: bool = False


@dataclass(frozen=True, slots=True)
class RemoteStatus:
    """The status of one order. Fields a panel leaves out (or sends as null/"") are None.

    ``runs``/``completed_runs`` come with drip-feed orders; ``posts``/``orders``/``expiry``
    with subscriptions. ``status`` is the panel's word as sent (unknown words are kept)."""

    status: str
    charge: Decimal | None = None
    start_count: int | None = None
    remains: int | None = None
    currency: str | None = None
    runs: int | None = None
    completed_runs: int | None = None
    posts: int | None = None
    orders: tuple[int, ...] = ()
    expiry: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteBalance:
    balance: Decimal
    currency: str


# --------------------------------------------------------------------------- parsing


class _Shape(Exception):
    """A value of the wrong shape; turned into ProviderBadReply by the client."""


def _whole(value: object, what: str) -> int:
    """An int from 23501, "23501", 23501.0 (a Decimal here), "2.3501e+04"; never a bool."""
    if isinstance(value, bool):
        raise _Shape(f"{what} is a boolean, not a number")
    if isinstance(value, int):
        number = value
    else:
        if isinstance(value, str):
            token = value.strip()
            if len(token) > 40 or not _NUMBER.fullmatch(token):
                raise _Shape(f"{what} is not a number: {_show(value)}")
            value = Decimal(token)
        if not isinstance(value, Decimal):
            raise _Shape(f"{what} is not a number: {_show(value)}")
        if not value.is_finite() or value.adjusted() > 19 or value != value.to_integral_value():
            raise _Shape(f"{what} is not a whole number: {_show(value)}")
        number = int(value)
    if abs(number) > _MAX_WHOLE:
        raise _Shape(f"{what} is out of range")
    return number


def _id(value: object, what: str) -> int:
    number = _whole(value, what)
    if number <= 0:
        raise _Shape(f"{what} is not a positive id: {number}")
    return number


def _money(value: object, what: str) -> Decimal:
    """A Decimal from "0.90", 0.90 (parsed as Decimal), 1 or "1"; never through a float."""
    if isinstance(value, bool):
        raise _Shape(f"{what} is a boolean, not an amount")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _NUMBER.fullmatch(token := value.strip()) and len(token) <= 40:
        amount = Decimal(token)
    else:
        raise _Shape(f"{what} is not an amount: {_show(value)}")
    if not amount.is_finite() or abs(amount) >= _MAX_MONEY:
        raise _Shape(f"{what} is out of range: {_show(value)}")
    return amount


def _flag(value: object, what: str) -> bool:
    """true/false, 1/0, "1"/"0", "true"/"false"; a missing or null flag is False."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | Decimal) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        token = value.strip().casefold()
        if token in _TRUE:
            return True
        if token in _FALSE:
            return False
    raise _Shape(f"{what} is not a boolean: {_show(value)}")


def _text(value: object, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise _Shape(f"{what} is not a string: {_show(value)}")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _opt(parse: Callable[[object, str], _T], obj: Mapping[str, Any], key: str) -> _T | None:
    value = obj.get(key)
    return None if _blank(value) else parse(value, key)


def _id_list(value: object, what: str) -> tuple[int, ...]:
    if _blank(value):
        return ()
    items: Iterable[object]
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = [token for token in value.split(",") if token.strip()]
    else:
        raise _Shape(f"{what} is not a list of ids: {_show(value)}")
    return tuple(_id(item, what) for item in items)


def _show(value: object, limit: int = 80) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _object(reply: object, what: str) -> Mapping[str, Any]:
    if not isinstance(reply, dict):
        raise _Shape(f"{what} is a {_kind(reply)}, expected an object")
    return reply


def _list(reply: object, what: str) -> list[Any]:
    if not isinstance(reply, list):
        raise _Shape(f"{what} is a {_kind(reply)}, expected a list")
    return reply


def _kind(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, int | Decimal) else "null"
    )


def _error_text(obj: Mapping[str, Any]) -> str | None:
    """The message of an ``{"error": ...}`` object; None when it has no (or an empty) error."""
    error = obj.get("error")
    if error is None or error is False or error == "":
        return None
    if not isinstance(error, str):
        raise _Shape(f"error is not a message: {_show(error)}")
    return error


def _item_error(value: object) -> RemoteError | None:
    """``{"error": "..."}`` in the value slot of a multi reply item."""
    if isinstance(value, dict):
        message = _error_text(value)
        if message is None:
            raise _Shape(f"item is an object without an error: {_show(value)}")
        return RemoteError(message)
    return None


def _service(item: object, index: int) -> RemoteService:
    obj = _object(item, f"services[{index}]")
    try:
        return RemoteService(
            service=_id(obj.get("service"), "service"),
            name=_text(obj.get("name"), "name"),
            type=_text(obj.get("type", "Default"), "type"),
            category=_text(obj.get("category", ""), "category"),
            rate=_money(obj.get("rate"), "rate"),
            min=_whole(obj.get("min"), "min"),
            max=_whole(obj.get("max"), "max"),
            refill=_flag(obj.get("refill"), "refill"),
            cancel=_flag(obj.get("cancel"), "cancel"),
            dripfeed=_flag(obj.get("dripfeed"), "dripfeed"),
        )
    except _Shape as exc:
        raise _Shape(f"services[{index}]: {exc}") from None


def _status(obj: Mapping[str, Any]) -> RemoteStatus:
    status = obj.get("status")
    if not isinstance(status, str) or not status.strip():
        raise _Shape(f"status is missing or not a string: {_show(status)}")
    return RemoteStatus(
        status=status,
        charge=_opt(_money, obj, "charge"),
        start_count=_opt(_whole, obj, "start_count"),
        remains=_opt(_whole, obj, "remains"),
        currency=_opt(_text, obj, "currency"),
        runs=_opt(_whole, obj, "runs"),
        completed_runs=_opt(_whole, obj, "completed_runs"),
        posts=_opt(_whole, obj, "posts"),
        orders=_id_list(obj.get("orders"), "orders"),
        expiry=_opt(_text, obj, "expiry"),
    )


def _chunks(ids: Sequence[int], what: str) -> Iterator[list[int]]:
    """Distinct positive ids, in the order given, MAX_IDS at a time."""
    seen: dict[int, None] = {}
    for number in ids:
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise ValueError(f"{what} must be positive ints, got {number!r}")
        seen[number] = None
    unique = list(seen)
    for start in range(0, len(unique), MAX_IDS):
        yield unique[start : start + MAX_IDS]


def _check_id(number: int, what: str) -> str:
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise ValueError(f"{what} must be a positive int, got {number!r}")
    return str(number)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# --------------------------------------------------------------------------- the client

_UNREACHABLE = (
    httpx.ConnectError,  # refused, DNS failure, TLS handshake failure
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,  # the proxy refused the tunnel: nothing went to the panel
    httpx.UnsupportedProtocol,
)


class ProviderClient:
    """One panel's API v2 at ``api_url`` (e.g. ``https://panel.example/api/v2``), spoken with
    ``api_key``. Holds a connection pool: use it as a context manager, or call ``close()``.

    ``transport`` replaces the network (tests pass an ``httpx.MockTransport``).
    """

    #: Replies larger than this raise ProviderBadReply instead of being buffered.
    max_reply_bytes: int = MAX_REPLY_BYTES

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        try:
            url = httpx.URL(api_url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ValueError(f"api_url is not a URL: {exc}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("api_url must be an absolute http:// or https:// URL")
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key must be a non-empty string")
        self.api_url = str(url)
        self._api_key = api_key
        # Every form the key could be echoed in; scrubbed from anything we put in a message.
        self._secrets = sorted({api_key, quote_plus(api_key), quote(api_key, safe="")}, key=len)[
            ::-1
        ]
        self._client = httpx.Client(
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            follow_redirects=False,
            verify=True,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"<ProviderClient {self.api_url}>"

    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # ----------------------------------------------------------------------- actions

    def services(self) -> list[RemoteService]:
        return self._parse("services", self._services, self._call("services"))

    def add(self, service: int, **params: str | int) -> int:
        """Place an order; returns the panel's order id. Parameters are those of the
        service's type (``link``, ``quantity``, ``runs``, ``comments``…), sent as strings.

        When the failure's ``may_have_reached`` is True (ProviderTimeout, ProviderBadReply)
        the order MAY EXIST upstream: do not resend without finding out."""
        form = {"service": _check_id(service, "service")}
        for name, value in params.items():
            if name in ("key", "action"):
                raise ValueError(f"{name!r} is not an order parameter")
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise TypeError(f"parameter {name!r} must be a str or an int, got {value!r}")
            form[name] = str(value)
        return self._parse("add", self._new_id, self._call("add", form), "add", "order")

    def status(self, order: int) -> RemoteStatus:
        reply = self._call("status", {"order": _check_id(order, "order")})
        return self._parse("status", self._one_status, reply)

    def statuses(self, orders: Sequence[int]) -> dict[int, RemoteStatus | RemoteError]:
        """Statuses of many orders, MAX_IDS per request. An id the panel's reply does not
        mention is absent from the result (missing data is not an error about the order)."""
        result: dict[int, RemoteStatus | RemoteError] = {}
        for chunk in _chunks(orders, "orders"):
            reply = self._call("status", {"orders": ",".join(map(str, chunk))})
            result.update(self._parse("status", self._keyed_statuses, reply, chunk))
        return result

    def refill(self, order: int) -> int:
        """Ask for a refill of a completed order; returns the refill id."""
        reply = self._call("refill", {"order": _check_id(order, "order")})
        return self._parse("refill", self._new_id, reply, "refill", "refill")

    def refills(self, orders: Sequence[int]) -> dict[int, int | RemoteError]:
        """order id -> refill id or RemoteError, MAX_IDS per request."""
        return self._multi("refill", "orders", orders, "order", "refill", _id)

    def refill_status(self, refill: int) -> str:
        reply = self._call("refill_status", {"refill": _check_id(refill, "refill")})
        return self._parse("refill_status", self._word, reply)

    def refill_statuses(self, refills: Sequence[int]) -> dict[int, str | RemoteError]:
        """refill id -> status word or RemoteError, MAX_IDS per request."""
        return self._multi("refill_status", "refills", refills, "refill", "status", _text)

    def cancel(self, orders: Sequence[int]) -> dict[int, int | RemoteError]:
        """Ask to cancel orders (sent as ``orders=...``); order id -> 1 (accepted) or
        RemoteError. Accepted means requested: the order's status changes later."""
        return self._multi("cancel", "orders", orders, "order", "cancel", _accepted)

    def balance(self) -> RemoteBalance:
        return self._parse("balance", self._balance, self._call("balance"))

    # ----------------------------------------------------------------------- reply shapes

    def _services(self, reply: object) -> list[RemoteService]:
        if isinstance(reply, dict):
            self._raise_refusal(reply, "services", "a list")
        return [_service(item, index) for index, item in enumerate(_list(reply, "reply"))]

    def _new_id(self, reply: object, action: str, key: str) -> int:
        return _id(self._success(reply, action, key), key)

    def _word(self, reply: object) -> str:
        return _text(self._success(reply, "refill_status", "status"), "status")

    def _balance(self, reply: object) -> RemoteBalance:
        obj = self._object_reply(reply, "balance", "balance")
        return RemoteBalance(
            balance=_money(obj.get("balance"), "balance"),
            currency=_text(obj.get("currency"), "currency"),
        )

    def _object_reply(self, reply: object, action: str, key: str) -> Mapping[str, Any]:
        """The reply object; a refusal raises ProviderRefused. An object carrying both an
        error and the success field is ambiguous: a bad reply (the action may have happened).
        """
        obj = _object(reply, "reply")
        message = _error_text(obj)
        if message is not None:
            if not _blank(obj.get(key)):
                raise _Shape(f"reply has both an error and {key!r}: {_show(obj)}")
            self._refuse(message, action)
        if key not in obj:
            raise _Shape(f"reply has no {key!r}: {_show(obj)}")
        return obj

    def _success(self, reply: object, action: str, key: str) -> object:
        value = self._object_reply(reply, action, key)[key]
        error = _item_error(value)  # {"refill": {"error": "..."}} from some panels
        if error is not None:
            self._refuse(error.message, action)
        return value

    def _one_status(self, reply: object) -> RemoteStatus:
        return _status(self._object_reply(reply, "status", "status"))

    def _keyed_statuses(
        self, reply: object, chunk: list[int]
    ) -> dict[int, RemoteStatus | RemoteError]:
        if reply == []:
            return {}  # PHP's json_encode([]) of an empty result
        obj = _object(reply, "reply")
        if "error" in obj and len(obj) == 1:
            self._raise_refusal(obj, "status", "an object keyed by order id")
        wanted = set(chunk)
        result: dict[int, RemoteStatus | RemoteError] = {}
        for key, value in obj.items():
            number = _id(key, "order id key")
            if number not in wanted:
                raise _Shape(f"reply names order {number}, which was not asked for")
            item = _object(value, f"reply[{key!r}]")
            message = _error_text(item)
            result[number] = RemoteError(message) if message is not None else _status(item)
        return result

    def _multi(
        self,
        action: str,
        param: str,
        ids: Sequence[int],
        id_key: str,
        value_key: str,
        parse: Callable[[object, str], _T],
    ) -> dict[int, _T | RemoteError]:
        """A list reply ``[{id_key: id, value_key: value | {"error": ...}}, ...]``."""
        result: dict[int, _T | RemoteError] = {}
        for chunk in _chunks(ids, param):
            reply = self._call(action, {param: ",".join(map(str, chunk))})
            result.update(
                self._parse(action, self._items, reply, chunk, action, id_key, value_key, parse)
            )
        return result

    def _items(
        self,
        reply: object,
        chunk: list[int],
        action: str,
        id_key: str,
        value_key: str,
        parse: Callable[[object, str], _T],
    ) -> dict[int, _T | RemoteError]:
        if isinstance(reply, dict):
            self._raise_refusal(reply, action, "a list")
        wanted = set(chunk)
        out: dict[int, _T | RemoteError] = {}
        for index, item in enumerate(_list(reply, "reply")):
            obj = _object(item, f"reply[{index}]")
            number = _id(obj.get(id_key), f"reply[{index}].{id_key}")
            if number not in wanted:
                raise _Shape(f"reply names {id_key} {number}, which was not asked for")
            if value_key not in obj:
                raise _Shape(f"reply[{index}] has no {value_key!r}: {_show(obj)}")
            value = obj[value_key]
            error = _item_error(value)
            out[number] = error if error is not None else parse(value, value_key)
        return out

    def _raise_refusal(self, obj: Mapping[str, Any], action: str, expected: str) -> None:
        """An object where something else belongs: a refusal, or a bad shape."""
        message = _error_text(obj)
        if message is None:
            raise _Shape(f"reply is {_show(obj)}, expected {expected}")
        self._refuse(message, action)

    def _refuse(self, message: str, action: str) -> None:
        message = self._scrub(message)
        if _AUTH_FAILED.search(message):
            raise ProviderAuthFailed(message, action=action)
        raise ProviderRefused(message, action=action)

    def _parse(self, action: str, parse: Callable[..., _T], *args: Any) -> _T:
        """``parse(*args)``, with a shape error turned into ProviderBadReply."""
        try:
            return parse(*args)
        except _Shape as exc:
            raise ProviderBadReply(
                f"{action}: unexpected reply: {self._scrub(str(exc))}",
                action=action,
                status_code=200,
            ) from None

    # ----------------------------------------------------------------------- transport

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _call(self, action: str, params: Mapping[str, str] | None = None) -> Any:
        """POST one action; the parsed JSON (floats as Decimal), or a ProviderError."""
        form = {**(params or {}), "key": self._api_key, "action": action}
        where = f"{action} at {self.api_url}"
        try:
            with self._client.stream("POST", self.api_url, data=form) as response:
                code = response.status_code
                if code != 200:
                    raise self._bad_status(action, where, response)
                body = self._read(response, action, where)
        except httpx.DecodingError as exc:
            raise ProviderBadReply(
                self._scrub(f"{where}: undecodable reply body: {exc}"),
                action=action,
                status_code=200,
            ) from None
        except _UNREACHABLE as exc:
            raise ProviderUnreachable(
                self._scrub(f"{where}: not reached ({type(exc).__name__}: {exc})"), action=action
            ) from None
        except httpx.TransportError as exc:
            raise ProviderTimeout(
                self._scrub(
                    f"{where}: sent, no complete answer ({type(exc).__name__}: {exc}); "
                    "the request may have been processed"
                ),
                action=action,
            ) from None
        try:
            return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, RecursionError, InvalidOperation) as exc:
            raise ProviderBadReply(
                self._scrub(f"{where}: reply is not JSON ({exc}): {_snippet(body)}"),
                action=action,
                status_code=200,
            ) from None

    def _read(self, response: httpx.Response, action: str, where: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise ProviderBadReply(
                    f"{where}: reply larger than {self.max_reply_bytes} bytes",
                    action=action,
                    status_code=response.status_code,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _bad_status(
        self, action: str, where: str, response: httpx.Response
    ) -> ProviderBadReply | ProviderTurnedAway:
        code = response.status_code
        if code in _REDIRECTS:
            location = response.headers.get("location", "")
            detail = f"redirect to {location!r} (not followed: fix the API URL)"
        else:
            detail = _snippet(_head(response))
        message = self._scrub(f"{where}: HTTP {code}: {detail}")
        retry_after = _retry_after(response.headers.get("retry-after"))
        if code in _REDIRECTS or 400 <= code < 500 or code in _ORIGIN_NOT_REACHED:
            return ProviderTurnedAway(
                message, action=action, status_code=code, retry_after=retry_after
            )
        if code == 503 and retry_after is not None:
            # A "come back in N seconds" is what a load balancer or a maintenance switch
            # says in front of the application; a bare 503 may come from the application.
            return ProviderTurnedAway(
                message, action=action, status_code=code, retry_after=retry_after
            )
        return ProviderBadReply(message, action=action, status_code=code)


#: Redirects answered instead of the API (a moved URL, http -> https, a login page); a 303
#: ("see the result of what you posted") is not among them: it says the POST was processed.
_REDIRECTS = frozenset({301, 302, 307, 308})
#: A CDN's statuses for an origin it could not send the request to: refused (521),
#: unreachable (523), TLS handshake failed (525), invalid certificate (526). Cloudflare's
#: 520/522/524 are not here: they may come after the request went through.
_ORIGIN_NOT_REACHED = frozenset({521, 523, 525, 526})
#: Longer waits than this are read as this: the caller bounds them again to its own taste.
_MAX_RETRY_AFTER = 24 * 3600.0


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds, or an HTTP date."""
    if value is None or not value.strip():
        return None
    token = value.strip()
    if token.isascii() and token.isdigit():
        seconds = float(min(int(token[:12]), int(_MAX_RETRY_AFTER)))
    else:
        try:
            when = email.utils.parsedate_to_datetime(token)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000": UTC, says RFC 5322
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


def _accepted(value: object, what: str) -> int:
    """The value of an accepted cancel: 1 (also "1", true)."""
    return 1 if value is True else _whole(value, what)


def _head(response: httpx.Response, limit: int = 2048) -> bytes:
    """The start of a body we are about to reject, for the message; errors give nothing."""
    data = b""
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= limit:
                break
    except httpx.HTTPError:
        pass
    return data[:limit]


def _snippet(body: bytes, limit: int = 200) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    if not text:
        return "(empty body)"
    return repr(text if len(text) <= limit else text[:limit] + "…")
