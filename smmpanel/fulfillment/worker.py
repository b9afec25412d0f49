"""The worker: forward new orders, follow them upstream, pass on cancels and refills; send
the runs of drip-feeds the panel runs itself (orders/dripfeed.py); charge the posts of
subscriptions at providers as they appear, and expire or resume the others
(orders/subscriptions.py).

Each pass claims due rows with a lease (core/queue.py), talks to providers with no transaction
open, then records the outcome conditionally on still holding the lease. Faults are sorted
by what they tell us about the request (the client's `may_have_reached`; `_add_failed`
decides for an `add`):

- it surely never reached the provider's API (refused connection, connect timeout, or
  whatever stands in front of the API answered instead: a redirect, a proxy's 403, a 404, a
  rate limiter's 429, a load balancer's 503 with Retry-After): send it again after a pause —
  the Retry-After when one was given (within bounds, and the provider's other orders wait
  too), else a backoff doubling up to `backoff_max`. It is retried for as long as it takes:
  the panel never holds or fails an order the provider never saw; the operator sees why on
  the order (its last error, attempts, a "retrying" event when the fault starts or changes)
  and on the provider (its last error), and may cancel it, which refunds it in full;
- the provider refused it (`{"error": ...}` to `add`): the order fails, refunded in full
  (a refusal of the moment — "try again later", its funds — or of our key is retried);
- it may have reached the provider (read timeout, dropped connection, a 5xx from the
  application, garbage reply): an `add` is never resent blindly — the order is held for the
  operator to resend, attach the provider's order id, or refund. Reads (status) and
  cancels are simply retried.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from django.db import connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.core.queue import claim
from smmpanel.fulfillment.forwarding import upstream_params
from smmpanel.fulfillment.upstream_status import is_forward, map_status, subscription_end
from smmpanel.orders.dripfeed import dripfeed_advance
from smmpanel.orders.kinds import Drive, types_driven
from smmpanel.orders.models import ForwardState, Order, OrderEvent, Refill
from smmpanel.orders.services import order_transition, refill_transition
from smmpanel.orders.states import (
    ACTIVE_REFILL_STATUSES,
    RUNNING_STATUSES,
    OrderStatus,
    RefillStatus,
    can_transition_refill,
)
from smmpanel.orders.subscriptions import (
    LIVE,
    chores_at,
    is_expired,
    subscription_chores,
    subscription_post_seen,
    upstream_post_quantity,
)
from smmpanel.providers.client import (
    ProviderAuthFailed,
    ProviderClient,
    ProviderError,
    ProviderRefused,
    RemoteError,
    RemoteStatus,
)
from smmpanel.providers.models import Provider

log = logging.getLogger(__name__)
S = OrderStatus
F_ = ForwardState
RUNNING = RUNNING_STATUSES
#: What may be sent upstream: a new order, or a subscription that is not paused.
SENDABLE = [S.PENDING, S.ACTIVE]
T = TypeVar("T")

#: Provider refill statuses (lower-cased) -> ours.
UPSTREAM_REFILL: dict[str, RefillStatus] = {
    "pending": RefillStatus.PENDING,
    "in progress": RefillStatus.IN_PROGRESS,
    "processing": RefillStatus.IN_PROGRESS,
    "completed": RefillStatus.COMPLETED,
    "rejected": RefillStatus.REJECTED,
    "error": RefillStatus.ERROR,
    "canceled": RefillStatus.REJECTED,
    "cancelled": RefillStatus.REJECTED,
}


def _seconds(name: str, default: float) -> timedelta:
    return timedelta(seconds=float(os.environ.get(name, default)))


@dataclass
class WorkerConfig:
    poll_interval: timedelta = field(default_factory=lambda: _seconds("SMMPANEL_POLL_SECONDS", 30))
    #: How long a claimed batch stays ours before others may take it.
    lease: timedelta = field(default_factory=lambda: _seconds("SMMPANEL_LEASE_SECONDS", 120))
    forward_batch: int = 50
    #: Orders sent at once by one worker, each from its own thread and database connection.
    #: A provider taking 300 ms per `add` holds one sender to ~3 orders a second; but a
    #: worker killed mid-send leaves every order it was sending held for the operator, so
    #: the default is one, and more is a choice (or run more workers).
    send_concurrency: int = field(
        default_factory=lambda: int(os.environ.get("SMMPANEL_SEND_CONCURRENCY", "1"))
    )
    #: One provider call's worth: a larger claim lets one worker sit on work others could do.
    poll_batch: int = 100
    backoff_base: timedelta = field(default_factory=lambda: _seconds("SMMPANEL_BACKOFF_SECONDS", 5))
    backoff_max: timedelta = timedelta(minutes=15)
    balance_every: timedelta = timedelta(minutes=5)
    idle_sleep: float = 1.0
    timeout: httpx.Timeout = field(
        default_factory=lambda: httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)
    )


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _fault(exc: ProviderError) -> str:
    """What kind of fault, without its details (which vary: a CDN page's ray id, a time)."""
    code = getattr(exc, "status_code", None)
    return f"{type(exc).__name__} HTTP {code}" if code else type(exc).__name__


def _refuses_the_order(exc: ProviderRefused) -> bool:
    """A refusal of this order (a bad link, an unknown service), not of the moment ("try
    again later", its funds) nor of our key (someone must fix it, the order is fine)."""
    return not exc.retryable and not isinstance(exc, ProviderAuthFailed)


#: The shortest wait a Retry-After gets: "0" must not make a busy loop of a refusing provider.
_MIN_WAIT = timedelta(seconds=1)


class Worker:
    def __init__(
        self,
        *,
        name: str | None = None,
        config: WorkerConfig | None = None,
        client_factory: Callable[[Provider], ProviderClient] | None = None,
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.config = config or WorkerConfig()
        self._client_factory = client_factory or self._default_client
        self._clients: dict[int, ProviderClient] = {}
        #: provider id -> until when it asked us to wait (Retry-After), and what it said.
        self._provider_waits: dict[int, tuple[datetime, str]] = {}

    # -- plumbing ---------------------------------------------------------------------------

    def _default_client(self, provider: Provider) -> ProviderClient:
        return ProviderClient(provider.api_url, provider.api_key(), timeout=self.config.timeout)

    def client(self, provider: Provider) -> ProviderClient:
        if provider.pk not in self._clients:
            self._clients[provider.pk] = self._client_factory(provider)
        return self._clients[provider.pk]

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()

    def backoff(self, attempts: int) -> timedelta:
        base: timedelta = self.config.backoff_base * (2 ** min(max(attempts - 1, 0), 12))
        return min(base, self.config.backoff_max) * (1 + random.random() / 5)

    def _provider_failed(self, provider: Provider, exc: BaseException) -> None:
        log.warning("provider %s: %s", provider.name, _short(exc))
        # One line for the operator's list; the full text is in the log and on the order.
        summary = " ".join(_short(exc).split())[:200]
        Provider.objects.filter(pk=provider.pk).update(
            last_error=summary, last_error_at=timezone.now()
        )
        provider.last_error = summary

    def _provider_ok(self, provider: Provider) -> None:
        """The provider answered: clear a stale error so the operator sees it recovered."""
        if provider.last_error:
            Provider.objects.filter(pk=provider.pk).update(last_error="")
            provider.last_error = ""

    def _event(self, order_id: int, kind: str, status: str, **data: Any) -> None:
        OrderEvent.objects.create(
            order_id=order_id,
            kind=kind,
            from_status=status,
            to_status=status,
            actor=f"worker:{self.name}",
            data=data,
        )

    def _mine(self, model: Any, ids: list[int]) -> list[Any]:
        """The claimed rows still leased to us, oldest first (the order they were due in)."""
        related = "provider" if model is Order else "order__provider"
        rows = model.objects.filter(id__in=ids, lease_owner=self.name).select_related(related)
        return list(rows.order_by("next_check_at", "id"))

    # -- the loop ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """One round of every pass; returns how many rows it handled."""
        return (
            self.recover_abandoned_sends()
            + self.forward_pass()
            + self.dripfeed_pass()
            + self.cancel_pass()
            + self.poll_pass()
            + self.subscription_poll_pass()
            + self.subscription_chores_pass()
            + self.refill_forward_pass()
            + self.refill_poll_pass()
            + self.balance_pass()
        )

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker %s started", self.name)
        try:
            while not stop.is_set():
                try:
                    handled = self.run_once()
                except Exception:
                    log.exception("worker round failed; carrying on")
                    handled = 0
                if not handled:
                    stop.wait(self.config.idle_sleep)
        finally:
            self.close()
            log.info("worker %s stopped", self.name)

    # -- forwarding -------------------------------------------------------------------------

    def recover_abandoned_sends(self) -> int:
        """A worker died between marking an order as sending and recording the answer: the
        provider may or may not have it, so it is held for the operator, never resent."""
        now = timezone.now()
        stale = list(
            Order.objects.filter(forward_state=F_.SENDING, lease_until__lt=now).values_list(
                "id", "status"
            )
        )
        for order_id, status in stale:
            with transaction.atomic():
                if Order.objects.filter(
                    pk=order_id, forward_state=F_.SENDING, lease_until__lt=now
                ).update(
                    forward_state=F_.HELD,
                    lease_until=None,
                    lease_owner="",
                    next_check_at=None,
                    last_error="the worker sending it stopped; it may exist upstream",
                ):
                    self._event(order_id, "held", status, reason="worker lost while sending")
        return len(stale)

    def forward_pass(self) -> int:
        ids = self._claim(
            Order,
            Q(forward_state=F_.QUEUED, provider__enabled=True, status__in=SENDABLE),
            self.config.forward_batch,
        )
        orders = self._mine(Order, ids)
        threads = min(self.config.send_concurrency, len(orders))
        if threads <= 1:
            for order in orders:
                self.forward(order)
            return len(ids)
        for order in orders:
            self.client(order.provider)  # made here, once, not raced for by the threads
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="send") as pool:
            # list(): wait for all, and re-raise the first failure for run_forever to log.
            list(pool.map(self._forward_in_thread, orders))
        return len(ids)

    def _forward_in_thread(self, order: Order) -> None:
        try:
            self.forward(order)
        finally:
            connections.close_all()  # this thread's connections only

    def forward(self, order: Order) -> None:
        now = timezone.now()
        if order.cancel_requested_at is not None and order.status in SENDABLE:
            # Asked to cancel while we held it, before it was sent: it never will be.
            with contextlib.suppress(PanelError):
                order_transition(
                    order_id=order.pk,
                    to=S.CANCELED,
                    expected=OrderStatus(order.status),
                    actor=f"worker:{self.name}",
                    data={"reason": "canceled by the customer before it was sent"},
                    guard=Q(forward_state=F_.QUEUED, lease_owner=self.name),
                    extra={
                        "forward_state": F_.UNSENT,
                        "lease_until": None,
                        "lease_owner": "",
                        "next_check_at": None,
                    },
                )
            return
        if self._waiting_provider(order, now):
            return
        # From here until the answer is recorded, the order may exist upstream.
        marked = Order.objects.filter(
            pk=order.pk, lease_owner=self.name, forward_state=F_.QUEUED, status__in=SENDABLE
        ).update(
            forward_state=F_.SENDING,
            lease_until=now + self.config.lease,
            attempts=F("attempts") + 1,
        )
        if not marked:
            # Ended meanwhile (a subscription stopped, say): it will never be sent.
            Order.objects.filter(
                pk=order.pk, lease_owner=self.name, forward_state=F_.QUEUED
            ).exclude(status__in=SENDABLE).update(
                forward_state=F_.UNSENT, lease_until=None, lease_owner="", next_check_at=None
            )
            return
        assert order.provider is not None and order.provider_service_id is not None
        try:
            provider_order_id = self.client(order.provider).add(
                order.provider_service_id, **upstream_params(order)
            )
        except ProviderError as exc:
            self._add_failed(order, exc)
        else:
            self._provider_ok(order.provider)
            self._sent(order, provider_order_id)

    def _add_failed(self, order: Order, exc: ProviderError) -> None:
        """The one place a failed `add` is judged. A refusal of the order itself fails it
        (nothing was created upstream). Otherwise `may_have_reached` decides: an order that
        may exist upstream waits for the operator (held), never resent blindly; one that
        surely never got there is sent again after a pause, for as long as it takes — the
        panel does not give up on its own on an order the provider never saw."""
        assert order.provider is not None
        if isinstance(exc, ProviderRefused) and _refuses_the_order(exc):
            self._fail(order, exc)
            return
        self._provider_failed(order.provider, exc)
        if exc.may_have_reached:
            self._hold(order, exc)
        else:
            self._requeue(order, exc)

    def _requeue(self, order: Order, exc: ProviderError) -> None:
        """The provider surely does not have it: send again after a pause — the one it asked
        for (Retry-After, within bounds), else a backoff growing with the attempts."""
        now = timezone.now()
        if exc.retry_after is not None:
            delay = min(max(timedelta(seconds=exc.retry_after), _MIN_WAIT), self.config.backoff_max)
            # It asked us to wait: its other orders wait too rather than be asked now.
            assert order.provider_id is not None
            self._provider_waits[order.provider_id] = (now + delay, _short(exc))
        else:
            delay = self.backoff(order.attempts + 1)
        with transaction.atomic():
            if Order.objects.filter(
                pk=order.pk, forward_state=F_.SENDING, lease_owner=self.name
            ).update(
                forward_state=F_.QUEUED,
                next_check_at=now + delay,
                lease_until=None,
                lease_owner="",
                last_error=_short(exc),
            ):
                self._note_retrying(order, exc)

    def _note_retrying(self, order: Order, exc: ProviderError) -> None:
        """One event when an order starts waiting on a fault, and one each time the fault
        changes; its attempts and last error are on the order, the provider's on the
        provider. Retries are not silent, and an order retried for days has a short history.
        """
        fault = _fault(exc)
        last = order.events.order_by("-id").values_list("kind", "data").first()
        if last is not None and last[0] == "retrying" and last[1].get("fault") == fault:
            return
        self._event(order.pk, "retrying", order.status, fault=fault, reason=_short(exc))

    def _waiting_provider(self, order: Order, now: datetime) -> bool:
        """Its provider asked us to wait (Retry-After) until later: put the order back until
        then without asking. True when it did."""
        until, reason = self._provider_waits.get(order.provider_id or 0, (None, ""))
        if until is None or until <= now:
            return False
        Order.objects.filter(pk=order.pk, lease_owner=self.name, forward_state=F_.QUEUED).update(
            next_check_at=until, lease_until=None, lease_owner="", last_error=reason
        )
        return True

    def _hold(self, order: Order, exc: ProviderError) -> None:
        with transaction.atomic():
            if Order.objects.filter(
                pk=order.pk, forward_state=F_.SENDING, lease_owner=self.name
            ).update(
                forward_state=F_.HELD,
                next_check_at=None,
                lease_until=None,
                lease_owner="",
                last_error=_short(exc),
            ):
                self._event(order.pk, "held", order.status, reason=_short(exc))

    def _fail(self, order: Order, exc: ProviderRefused) -> None:
        try:
            order_transition(
                order_id=order.pk,
                to=S.CANCELED,
                expected=OrderStatus(order.status),
                actor=f"worker:{self.name}",
                data={"reason": f"the provider refused the order: {exc.message}"},
                guard=Q(forward_state=F_.SENDING, lease_owner=self.name),
                extra={
                    "forward_state": F_.FAILED,
                    "lease_until": None,
                    "lease_owner": "",
                    "last_error": _short(exc),
                },
            )
        except PanelError:
            log.warning("order %s: could not record the refusal", order.pk, exc_info=True)

    def _sent(self, order: Order, provider_order_id: int) -> None:
        now = timezone.now()
        with transaction.atomic():
            # Recorded even if our lease lapsed meanwhile: the provider has it, whatever else.
            recorded = Order.objects.filter(
                pk=order.pk,
                forward_state__in=[F_.SENDING, F_.HELD],
                provider_order_id__isnull=True,
            ).update(
                forward_state=F_.SENT,
                provider_order_id=provider_order_id,
                lease_until=None,
                lease_owner="",
                last_error="",
                # A cancel asked for while it was being sent goes out at once.
                next_check_at=Case(
                    When(cancel_requested_at__isnull=False, then=Value(now)),
                    default=Value(now + self.config.poll_interval),
                ),
            )
            if recorded:
                self._event(order.pk, "forwarded", order.status, provider_order=provider_order_id)

    # -- drip-feed the panel runs ------------------------------------------------------------

    def dripfeed_pass(self) -> int:
        """Send the runs that are due, and end the drip-feeds whose runs are all done."""
        ids = self._claim(
            Order, Q(forward_state=F_.DRIPFEED, status__in=RUNNING), self.config.forward_batch
        )
        for order in self._mine(Order, ids):
            try:
                dripfeed_advance(order_id=order.pk, owner=self.name)
            except PanelError as exc:
                # Lost a race (a cancel, the operator): look again shortly.
                log.info("drip-feed %s: %s", order.pk, exc.message)
                self._later(Order, [order], exc)
        return len(ids)

    # -- following orders -------------------------------------------------------------------

    def _claim(self, model: Any, due: Q, limit: int) -> list[int]:
        return claim(
            model, due, owner=self.name, limit=limit, lease=self.config.lease, now=timezone.now()
        )

    def _calls(
        self,
        model: Any,
        ids: list[int],
        call: Callable[[ProviderClient, list[Any]], dict[int, T]],
    ) -> Iterator[tuple[list[Any], dict[int, T]]]:
        """The claimed rows, one request per provider and 100 rows: yields each batch with
        the provider's replies. A batch whose request fails is looked at again later."""
        groups: dict[int, tuple[Provider, list[Any]]] = {}
        for row in self._mine(model, ids):
            provider = row.provider if model is Order else row.order.provider
            groups.setdefault(provider.pk, (provider, []))[1].append(row)
        for provider, rows in groups.values():
            for chunk in _chunks(rows, 100):
                try:
                    replies = call(self.client(provider), list(chunk))
                except ProviderError as exc:
                    self._provider_failed(provider, exc)
                    self._later(model, chunk, exc)
                    continue
                self._provider_ok(provider)
                yield list(chunk), replies

    def _later(self, model: Any, rows: Sequence[Any], exc: BaseException | None) -> None:
        """Look again after a pause: the poll interval when all is well (one UPDATE for all
        the rows), a backoff growing with each row's failures when `exc` says it failed."""
        now = timezone.now()
        release = {"lease_until": None, "lease_owner": ""}
        if exc is None:
            model.objects.filter(pk__in=[r.pk for r in rows], lease_owner=self.name).update(
                next_check_at=now + self.config.poll_interval, attempts=0, **release
            )
            return
        for row in rows:
            attempts = row.attempts + 1
            model.objects.filter(pk=row.pk, lease_owner=self.name).update(
                next_check_at=now + self.backoff(attempts),
                attempts=attempts,
                last_error=_short(exc),
                **release,
            )

    def cancel_pass(self) -> int:
        """Pass cancel requests on. A subscription's cancel (stopped or paused here) goes out
        whatever its status here: the provider must stop creating orders for its posts."""
        ids = self._claim(
            Order,
            Q(forward_state=F_.SENT, cancel_requested_at__isnull=False, cancel_sent_at__isnull=True)
            & (Q(status__in=RUNNING) | Q(type__in=types_driven(Drive.SUBSCRIPTION))),
            self.config.poll_batch,
        )
        for chunk, replies in self._calls(
            Order, ids, lambda client, rows: client.cancel([o.provider_order_id for o in rows])
        ):
            for order in chunk:
                reply = replies.get(order.provider_order_id)
                refused = reply.message if isinstance(reply, RemoteError) else None
                now = timezone.now()
                with transaction.atomic():
                    Order.objects.filter(pk=order.pk, lease_owner=self.name).update(
                        cancel_sent_at=now,
                        # An order: poll for its end. A subscription is not followed once
                        # canceled there; a paused one waits for its chores (funds, expiry).
                        next_check_at=(
                            now
                            if not order.is_subscription
                            else chores_at(order, order.paused_for, now)
                            if order.status == S.PAUSED
                            else None
                        ),
                        lease_until=None,
                        lease_owner="",
                        last_error=f"cancel refused upstream: {refused}" if refused else "",
                    )
                    self._event(
                        order.pk,
                        "cancel_refused" if refused else "cancel_sent",
                        order.status,
                        **({"reason": refused} if refused else {}),
                    )
        return len(ids)

    def poll_pass(self) -> int:
        ids = self._claim(
            Order,
            Q(forward_state=F_.SENT, status__in=RUNNING)
            & (Q(cancel_requested_at__isnull=True) | Q(cancel_sent_at__isnull=False)),
            self.config.poll_batch,
        )
        for chunk, replies in self._calls(
            Order, ids, lambda client, rows: client.statuses([o.provider_order_id for o in rows])
        ):
            unchanged = []
            for order in chunk:
                reply = replies.get(order.provider_order_id)
                if self._nothing_new(order, reply):
                    unchanged.append(order)
                else:
                    self.apply_status(order, reply)
            # Most polls of a running order bring no news: one UPDATE for all of them.
            self._later(Order, unchanged, None)
        return len(ids)

    @staticmethod
    def _nothing_new(order: Order, reply: RemoteStatus | RemoteError | None) -> bool:
        """The reply would change nothing on the order but when to look next."""
        if not isinstance(reply, RemoteStatus) or order.last_error:
            return False
        new = map_status(reply.status)
        return (
            new is not None
            and not is_forward(order.status, new)
            and reply.status[:40] == order.provider_status
            and (reply.charge is None or reply.charge == order.provider_charge)
            and (reply.remains is None or reply.remains == order.remains)
            and (reply.start_count is None or reply.start_count == order.start_count)
            and (reply.completed_runs is None or reply.completed_runs == order.completed_runs)
        )

    def apply_status(self, order: Order, reply: RemoteStatus | RemoteError | None) -> None:
        if not isinstance(reply, RemoteStatus):
            why = reply.message if isinstance(reply, RemoteError) else "missing from the reply"
            # Never move an order on missing data: note it and look again later.
            self._later(Order, [order], RuntimeError(f"provider status: {why}"))
            return
        now = timezone.now()
        new = map_status(reply.status)
        remains = (
            None if reply.remains is None else max(0, min(reply.remains, order.charged_quantity))
        )
        bookkeeping: dict[str, Any] = {
            "provider_status": reply.status[:40],
            "lease_until": None,
            "lease_owner": "",
            "attempts": 0,
        }
        if reply.charge is not None:
            bookkeeping["provider_charge"] = reply.charge
        if new is None:
            if order.provider_status != reply.status:
                self._event(order.pk, "unknown_status", order.status, upstream=reply.status)
            Order.objects.filter(pk=order.pk, lease_owner=self.name).update(
                next_check_at=now + self.config.poll_interval,
                last_error=f"unknown upstream status {reply.status!r}"[:500],
                **bookkeeping,
            )
            return
        if new == S.PARTIAL and not (remains if remains is not None else order.remains):
            new = S.COMPLETED  # "Partial" with nothing missing is complete
        if is_forward(order.status, new):
            final = new in (S.COMPLETED, S.PARTIAL, S.CANCELED)
            try:
                order_transition(
                    order_id=order.pk,
                    to=new,
                    expected=OrderStatus(order.status),
                    actor=f"worker:{self.name}",
                    remains=(remains if remains is not None else order.remains)
                    if new != S.COMPLETED
                    else None,
                    start_count=reply.start_count,
                    guard=Q(lease_owner=self.name),
                    extra={
                        **bookkeeping,
                        "last_error": "",
                        "next_check_at": None if final else now + self.config.poll_interval,
                    },
                    data={"upstream": reply.status},
                )
            except PanelError as exc:
                # Lost a race with the operator, or the reply makes no sense: look again.
                if not isinstance(exc, ConflictError):
                    log.warning("order %s: %s", order.pk, exc.message)
                self._later(Order, [order], None)
            return
        progress: dict[str, Any] = {}
        if remains is not None and remains != order.remains:
            progress["remains"] = remains
        if reply.start_count is not None and reply.start_count != order.start_count:
            progress["start_count"] = reply.start_count
        if (
            order.runs
            and reply.completed_runs is not None
            and reply.completed_runs != order.completed_runs
        ):
            progress["completed_runs"] = max(0, min(reply.completed_runs, order.runs))
        Order.objects.filter(pk=order.pk, lease_owner=self.name, status=order.status).update(
            next_check_at=now + self.config.poll_interval,
            last_error="",
            **bookkeeping,
            **progress,
        )

    # -- subscriptions ----------------------------------------------------------------------

    def subscription_poll_pass(self) -> int:
        """Follow subscriptions at their providers: charge each post's order as it appears,
        and end them as the provider (or the expiry date) says."""
        ids = self._claim(
            Order,
            Q(
                type__in=types_driven(Drive.SUBSCRIPTION),
                forward_state=F_.SENT,
                status=S.ACTIVE,
                cancel_requested_at__isnull=True,
            ),
            self.config.poll_batch,
        )
        for chunk, replies in self._calls(
            Order, ids, lambda client, rows: client.statuses([o.provider_order_id for o in rows])
        ):
            for sub in chunk:
                self.follow_subscription(sub, replies.get(sub.provider_order_id))
        return len(ids)

    def follow_subscription(self, sub: Order, reply: RemoteStatus | RemoteError | None) -> None:
        if not isinstance(reply, RemoteStatus):
            why = reply.message if isinstance(reply, RemoteError) else "missing from the reply"
            self._later(Order, [sub], RuntimeError(f"provider status: {why}"))
            return
        actor = f"worker:{self.name}"
        assert sub.provider is not None
        known = set(
            Order.objects.filter(parent_id=sub.pk, provider_order_id__isnull=False).values_list(
                "provider_order_id", flat=True
            )
        )
        new = [n for n in reply.orders if n not in known]
        if new:
            try:
                details = self.client(sub.provider).statuses(new)
            except ProviderError as exc:
                self._provider_failed(sub.provider, exc)
                self._later(Order, [sub], exc)
                return
            for provider_order_id in new:
                detail = details.get(provider_order_id)
                quantity = upstream_post_quantity(
                    sub,
                    detail.charge if isinstance(detail, RemoteStatus) else None,
                    detail.remains if isinstance(detail, RemoteStatus) else None,
                )
                try:
                    subscription_post_seen(
                        order_id=sub.pk,
                        provider_order_id=provider_order_id,
                        quantity=quantity,
                        actor=actor,
                    )
                except ConflictError:
                    break  # paused for funds, or stopped: no further post is charged
        now = timezone.now()
        bookkeeping: dict[str, Any] = {
            "provider_status": reply.status[:40],
            "lease_until": None,
            "lease_owner": "",
            "attempts": 0,
            "last_error": "",
        }
        if reply.charge is not None:
            bookkeeping["provider_charge"] = reply.charge
        end = subscription_end(reply.status)
        ending: dict[str, Any] = {"paused_for": ""}
        if end is None and is_expired(sub, now):
            # The provider has not ended it on its expiry date: we do, and cancel it there.
            end = S.EXPIRED
            ending.update(cancel_requested_at=now, next_check_at=now)
        current = Order.objects.filter(pk=sub.pk).values_list("status", flat=True).first()
        if end is not None and current in (S.ACTIVE, S.PAUSED):
            with contextlib.suppress(PanelError):
                order_transition(
                    order_id=sub.pk,
                    to=end,
                    expected=OrderStatus(current),
                    actor=actor,
                    guard=Q(lease_owner=self.name),
                    extra={**bookkeeping, **ending},
                    data={"upstream": reply.status},
                )
                return
        Order.objects.filter(pk=sub.pk, lease_owner=self.name).update(
            next_check_at=Case(
                # Paused for funds just now, or paused or stopped meanwhile by someone else:
                # its cancel at the provider is due (the cancel pass looks for it now).
                When(
                    cancel_requested_at__isnull=False,
                    cancel_sent_at__isnull=True,
                    then=Value(now),
                ),
                When(status=S.ACTIVE, then=Value(now + self.config.poll_interval)),
                default=Value(None),
            ),
            **bookkeeping,
        )

    def subscription_chores_pass(self) -> int:
        """Subscriptions nobody polls (by hand, or paused and canceled at their provider):
        expire them after their expiry day, resume those paused for funds once paid for."""
        ids = self._claim(
            Order,
            Q(type__in=types_driven(Drive.SUBSCRIPTION), status__in=LIVE)
            & (
                Q(forward_state=F_.MANUAL)
                | Q(forward_state=F_.SENT, status=S.PAUSED, cancel_sent_at__isnull=False)
            ),
            self.config.poll_batch,
        )
        for order_id in ids:
            try:
                subscription_chores(order_id=order_id, owner=self.name)
            except PanelError as exc:
                log.info("subscription %s: %s", order_id, exc.message)
                Order.objects.filter(pk=order_id, lease_owner=self.name).update(
                    lease_until=None, lease_owner=""
                )
        return len(ids)

    # -- refills ----------------------------------------------------------------------------

    def refill_forward_pass(self) -> int:
        ids = self._claim(
            Refill,
            Q(forward_state=F_.QUEUED, status=RefillStatus.PENDING),
            self.config.forward_batch,
        )
        # Asking twice for a refill is harmless, so every fault is simply retried.
        for chunk, replies in self._calls(
            Refill,
            ids,
            lambda client, rows: client.refills([r.order.provider_order_id for r in rows]),
        ):
            for refill in chunk:
                reply = replies.get(refill.order.provider_order_id)
                if isinstance(reply, int):
                    Refill.objects.filter(pk=refill.pk, lease_owner=self.name).update(
                        forward_state=F_.SENT,
                        provider_refill_id=reply,
                        next_check_at=timezone.now() + self.config.poll_interval,
                        lease_until=None,
                        lease_owner="",
                        last_error="",
                    )
                    continue
                if not isinstance(reply, RemoteError) or reply.retryable:
                    # No answer for it, or "try again later": not a verdict on the refill.
                    why = reply.message if reply is not None else "missing from the reply"
                    self._later(Refill, [refill], RuntimeError(f"refill: {why}"))
                    continue
                why = reply.message
                Refill.objects.filter(pk=refill.pk).update(
                    forward_state=F_.FAILED, last_error=why[:500], next_check_at=None
                )
                with contextlib.suppress(PanelError):
                    refill_transition(
                        refill_id=refill.pk, to=RefillStatus.REJECTED, actor=f"worker:{self.name}"
                    )
        return len(ids)

    def refill_poll_pass(self) -> int:
        ids = self._claim(
            Refill,
            Q(forward_state=F_.SENT, status__in=list(ACTIVE_REFILL_STATUSES)),
            self.config.poll_batch,
        )
        for chunk, replies in self._calls(
            Refill,
            ids,
            lambda client, rows: client.refill_statuses([r.provider_refill_id for r in rows]),
        ):
            for refill in chunk:
                reply = replies.get(refill.provider_refill_id)
                new = UPSTREAM_REFILL.get(reply.strip().lower()) if isinstance(reply, str) else None
                if new is not None and can_transition_refill(refill.status, new):
                    with contextlib.suppress(PanelError):
                        refill_transition(refill_id=refill.pk, to=new, actor=f"worker:{self.name}")
                done = new is not None and new not in ACTIVE_REFILL_STATUSES
                Refill.objects.filter(pk=refill.pk, lease_owner=self.name).update(
                    next_check_at=None if done else timezone.now() + self.config.poll_interval,
                    lease_until=None,
                    lease_owner="",
                )
        return len(ids)

    # -- providers --------------------------------------------------------------------------

    def balance_pass(self) -> int:
        now = timezone.now()
        due = Provider.objects.filter(enabled=True).filter(
            Q(balance_checked_at__isnull=True)
            | Q(balance_checked_at__lt=now - self.config.balance_every)
        )
        for provider in due:
            # Claim by moving the timestamp first, so several workers don't all ask.
            if not Provider.objects.filter(
                pk=provider.pk, balance_checked_at=provider.balance_checked_at
            ).update(balance_checked_at=now):
                continue
            try:
                reply = self.client(provider).balance()
            except ProviderError as exc:
                self._provider_failed(provider, exc)
                continue
            Provider.objects.filter(pk=provider.pk).update(
                balance=reply.balance, currency=reply.currency[:3] or provider.currency
            )
        # Balance checks are a background chore: they never keep the loop from idling.
        return 0
