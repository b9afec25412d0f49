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
from django.db import connections
from django.db.models import Model, Q
from django.utils import timezone

from smmpanel.core.errors import ConflictError, PanelError
from smmpanel.core.queue import claim
from smmpanel.fulfillment import services as record
from smmpanel.fulfillment.forwarding import upstream_params
from smmpanel.fulfillment.upstream_status import (
    is_forward,
    map_refill_status,
    map_status,
    subscription_end,
)
from smmpanel.orders.dripfeed import dripfeed_advance
from smmpanel.orders.kinds import Drive, orders_driven
from smmpanel.orders.models import ForwardState, Order, Refill
from smmpanel.orders.states import (
    ACTIVE_REFILL_STATUSES,
    RUNNING_STATUSES,
    SENDABLE_STATUSES,
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
SENDABLE = SENDABLE_STATUSES
T = TypeVar("T")


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


@dataclass(frozen=True)
class Pass:
    """One kind of work: the rows of `model` that are `due` are claimed, `batch` at most, and
    given to `handler` by id. A sweep (`model` None) finds its own rows: its handler is
    called with no ids and says how many it handled."""

    name: str
    model: type[Model] | None
    due: Q
    batch: int
    handler: Callable[[list[int]], int | None]


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


def _why(reply: RemoteError | None) -> str:
    return reply.message if isinstance(reply, RemoteError) else "missing from the reply"


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
        record.provider_failure_noted(
            provider=provider, summary=" ".join(_short(exc).split())[:200]
        )

    def _mine(self, model: Any, ids: list[int]) -> list[Any]:
        """The claimed rows still leased to us, oldest first (the order they were due in)."""
        related = "provider" if model is Order else "order__provider"
        rows = model.objects.filter(id__in=ids, lease_owner=self.name).select_related(related)
        return list(rows.order_by("next_check_at", "id"))

    def _claim(self, model: Any, due: Q, limit: int) -> list[int]:
        return claim(
            model, due, owner=self.name, limit=limit, lease=self.config.lease, now=timezone.now()
        )

    # -- the loop ---------------------------------------------------------------------------

    def passes(self) -> list[Pass]:
        """Every pass of a round, in order. Made each round from the config as it is then."""
        c = self.config
        return [
            Pass("recover_abandoned_sends", None, Q(), 0, self._recover),
            Pass(
                "forward",
                Order,
                Q(forward_state=F_.QUEUED, provider__enabled=True, status__in=SENDABLE),
                c.forward_batch,
                self._forward_claimed,
            ),
            Pass(
                "dripfeed",
                Order,
                orders_driven(Drive.DRIPFEED) & Q(status__in=RUNNING),
                c.forward_batch,
                self._dripfeed_claimed,
            ),
            Pass(
                "cancel",
                Order,
                Q(
                    forward_state=F_.SENT,
                    cancel_requested_at__isnull=False,
                    cancel_sent_at__isnull=True,
                )
                # A subscription's cancel (stopped or paused here) goes out whatever its
                # status here: the provider must stop creating orders for its posts.
                & (Q(status__in=RUNNING) | orders_driven(Drive.SUBSCRIPTION)),
                c.poll_batch,
                self._cancel_claimed,
            ),
            Pass(
                "poll",
                Order,
                Q(forward_state=F_.SENT, status__in=RUNNING)
                & (Q(cancel_requested_at__isnull=True) | Q(cancel_sent_at__isnull=False)),
                c.poll_batch,
                self._poll_claimed,
            ),
            Pass(
                "subscription_poll",
                Order,
                orders_driven(Drive.SUBSCRIPTION)
                & Q(forward_state=F_.SENT, status=S.ACTIVE, cancel_requested_at__isnull=True),
                c.poll_batch,
                self._subscription_poll_claimed,
            ),
            Pass(
                "subscription_chores",
                Order,
                orders_driven(Drive.SUBSCRIPTION)
                & Q(status__in=LIVE)
                & (
                    Q(forward_state=F_.MANUAL)
                    | Q(forward_state=F_.SENT, status=S.PAUSED, cancel_sent_at__isnull=False)
                ),
                c.poll_batch,
                self._subscription_chores_claimed,
            ),
            Pass(
                "refill_forward",
                Refill,
                Q(forward_state=F_.QUEUED, status=RefillStatus.PENDING),
                c.forward_batch,
                self._refill_forward_claimed,
            ),
            Pass(
                "refill_poll",
                Refill,
                Q(forward_state=F_.SENT, status__in=list(ACTIVE_REFILL_STATUSES)),
                c.poll_batch,
                self._refill_poll_claimed,
            ),
            Pass("balance", None, Q(), 0, self._balance),
        ]

    def run_pass(self, name: str) -> int:
        """Run one pass; returns how many rows it handled."""
        [step] = [p for p in self.passes() if p.name == name]
        return self._run(step)

    def _run(self, step: Pass) -> int:
        if step.model is None:
            return step.handler([]) or 0
        ids = self._claim(step.model, step.due, step.batch)
        if ids:
            step.handler(ids)
        return len(ids)

    def run_once(self) -> int:
        """One round of every pass; returns how many rows it handled."""
        return sum(self._run(step) for step in self.passes())

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

    # The passes by name, as tests and tools call them.
    def recover_abandoned_sends(self) -> int:
        return self.run_pass("recover_abandoned_sends")

    def forward_pass(self) -> int:
        return self.run_pass("forward")

    def dripfeed_pass(self) -> int:
        return self.run_pass("dripfeed")

    def cancel_pass(self) -> int:
        return self.run_pass("cancel")

    def poll_pass(self) -> int:
        return self.run_pass("poll")

    def subscription_poll_pass(self) -> int:
        return self.run_pass("subscription_poll")

    def subscription_chores_pass(self) -> int:
        return self.run_pass("subscription_chores")

    def refill_forward_pass(self) -> int:
        return self.run_pass("refill_forward")

    def refill_poll_pass(self) -> int:
        return self.run_pass("refill_poll")

    def balance_pass(self) -> int:
        return self.run_pass("balance")

    # -- forwarding -------------------------------------------------------------------------

    def _recover(self, ids: list[int]) -> int:
        """A worker died between marking an order as sending and recording the answer: the
        provider may or may not have it, so it is held for the operator, never resent."""
        return record.order_forward_abandoned(owner=self.name, now=timezone.now())

    def _forward_claimed(self, ids: list[int]) -> None:
        orders = self._mine(Order, ids)
        threads = min(self.config.send_concurrency, len(orders))
        if threads <= 1:
            for order in orders:
                self.forward(order)
            return
        for order in orders:
            self.client(order.provider)  # made here, once, not raced for by the threads
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="send") as pool:
            # list(): wait for all, and re-raise the first failure for run_forever to log.
            list(pool.map(self._forward_in_thread, orders))

    def _forward_in_thread(self, order: Order) -> None:
        try:
            self.forward(order)
        finally:
            connections.close_all()  # this thread's connections only

    def forward(self, order: Order) -> None:
        now = timezone.now()
        if order.cancel_requested_at is not None and order.status in SENDABLE:
            record.order_forward_canceled(order_id=order.pk, status=order.status, owner=self.name)
            return
        if self._waiting_provider(order, now):
            return
        if not record.order_forward_started(
            order_id=order.pk, owner=self.name, lease_until=now + self.config.lease
        ):
            return
        assert order.provider is not None and order.provider_service_id is not None
        try:
            provider_order_id = self.client(order.provider).add(
                order.provider_service_id, **upstream_params(order)
            )
        except ProviderError as exc:
            self._add_failed(order, exc)
        else:
            record.provider_recovered(provider=order.provider)
            now = timezone.now()
            record.order_forward_recorded(
                order_id=order.pk,
                status=order.status,
                owner=self.name,
                provider_order_id=provider_order_id,
                now=now,
                poll_at=now + self.config.poll_interval,
            )

    def _add_failed(self, order: Order, exc: ProviderError) -> None:
        """The one place a failed `add` is judged. A refusal of the order itself fails it
        (nothing was created upstream). Otherwise `may_have_reached` decides: an order that
        may exist upstream waits for the operator (held), never resent blindly; one that
        surely never got there is sent again after a pause, for as long as it takes — the
        panel does not give up on its own on an order the provider never saw."""
        assert order.provider is not None
        if isinstance(exc, ProviderRefused) and _refuses_the_order(exc):
            try:
                record.order_forward_refused(
                    order_id=order.pk,
                    status=order.status,
                    owner=self.name,
                    message=exc.message,
                    error=_short(exc),
                )
            except PanelError:
                log.warning("order %s: could not record the refusal", order.pk, exc_info=True)
            return
        self._provider_failed(order.provider, exc)
        if exc.may_have_reached:
            record.order_forward_held(
                order_id=order.pk, status=order.status, owner=self.name, error=_short(exc)
            )
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
        record.order_forward_requeued(
            order=order, owner=self.name, next_at=now + delay, error=_short(exc), fault=_fault(exc)
        )

    def _waiting_provider(self, order: Order, now: datetime) -> bool:
        """Its provider asked us to wait (Retry-After) until later: put the order back until
        then without asking. True when it did."""
        until, reason = self._provider_waits.get(order.provider_id or 0, (None, ""))
        if until is None or until <= now:
            return False
        record.order_forward_postponed(
            order_id=order.pk, owner=self.name, until=until, reason=reason
        )
        return True

    # -- drip-feed the panel runs ------------------------------------------------------------

    def _dripfeed_claimed(self, ids: list[int]) -> None:
        """Send the runs that are due, and end the drip-feeds whose runs are all done."""
        for order in self._mine(Order, ids):
            try:
                dripfeed_advance(order_id=order.pk, owner=self.name)
            except PanelError as exc:
                # Lost a race (a cancel, the operator): look again shortly.
                log.info("drip-feed %s: %s", order.pk, exc.message)
                self._later(Order, [order], exc)

    # -- following orders -------------------------------------------------------------------

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
                record.provider_recovered(provider=provider)
                yield list(chunk), replies

    def _later(self, model: Any, rows: Sequence[Any], exc: BaseException | None) -> None:
        """Look again after a pause: the poll interval when all is well (one UPDATE for all
        the rows), a backoff growing with each row's failures when `exc` says it failed."""
        now = timezone.now()
        if exc is None:
            record.work_later(
                model=model,
                ids=[r.pk for r in rows],
                owner=self.name,
                at=now + self.config.poll_interval,
            )
            return
        for row in rows:
            attempts = row.attempts + 1
            record.work_retry(
                model=model,
                row_id=row.pk,
                owner=self.name,
                attempts=attempts,
                at=now + self.backoff(attempts),
                error=_short(exc),
            )

    def _cancel_claimed(self, ids: list[int]) -> None:
        """Pass cancel requests on."""
        for chunk, replies in self._calls(
            Order, ids, lambda client, rows: client.cancel([o.provider_order_id for o in rows])
        ):
            for order in chunk:
                reply = replies.get(order.provider_order_id)
                now = timezone.now()
                record.order_cancel_sent(
                    order_id=order.pk,
                    status=order.status,
                    owner=self.name,
                    now=now,
                    # An order: poll for its end. A subscription is not followed once
                    # canceled there; a paused one waits for its chores (funds, expiry).
                    next_at=(
                        now
                        if not order.is_subscription
                        else chores_at(order, order.paused_for, now)
                        if order.status == S.PAUSED
                        else None
                    ),
                    refused=reply.message if isinstance(reply, RemoteError) else "",
                )

    def _poll_claimed(self, ids: list[int]) -> None:
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
            # Never move an order on missing data: note it and look again later.
            self._later(Order, [order], RuntimeError(f"provider status: {_why(reply)}"))
            return
        now = timezone.now()
        next_at = now + self.config.poll_interval
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
            record.order_status_unknown(
                order=order,
                owner=self.name,
                upstream=reply.status,
                next_at=next_at,
                bookkeeping=bookkeeping,
            )
            return
        if new == S.PARTIAL and not (remains if remains is not None else order.remains):
            new = S.COMPLETED  # "Partial" with nothing missing is complete
        if is_forward(order.status, new):
            final = new in (S.COMPLETED, S.PARTIAL, S.CANCELED)
            try:
                record.order_status_followed(
                    order=order,
                    to=new,
                    owner=self.name,
                    upstream=reply.status,
                    remains=(remains if remains is not None else order.remains)
                    if new != S.COMPLETED
                    else None,
                    start_count=reply.start_count,
                    extra={
                        **bookkeeping,
                        "last_error": "",
                        "next_check_at": None if final else next_at,
                    },
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
        record.order_progress_followed(
            order=order, owner=self.name, next_at=next_at, changes={**bookkeeping, **progress}
        )

    # -- subscriptions ----------------------------------------------------------------------

    def _subscription_poll_claimed(self, ids: list[int]) -> None:
        """Follow subscriptions at their providers: charge each post's order as it appears,
        and end them as the provider (or the expiry date) says."""
        for chunk, replies in self._calls(
            Order, ids, lambda client, rows: client.statuses([o.provider_order_id for o in rows])
        ):
            for sub in chunk:
                self.follow_subscription(sub, replies.get(sub.provider_order_id))

    def follow_subscription(self, sub: Order, reply: RemoteStatus | RemoteError | None) -> None:
        if not isinstance(reply, RemoteStatus):
            self._later(Order, [sub], RuntimeError(f"provider status: {_why(reply)}"))
            return
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
                        actor=f"worker:{self.name}",
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
            ending |= {"cancel_requested_at": now, "next_check_at": now}
        if end is not None and record.subscription_ended_upstream(
            sub_id=sub.pk,
            to=end,
            owner=self.name,
            upstream=reply.status,
            extra={**bookkeeping, **ending},
        ):
            return
        record.subscription_followed(
            sub_id=sub.pk,
            owner=self.name,
            now=now,
            poll_at=now + self.config.poll_interval,
            bookkeeping=bookkeeping,
        )

    def _subscription_chores_claimed(self, ids: list[int]) -> None:
        """Subscriptions nobody polls (by hand, or paused and canceled at their provider):
        expire them after their expiry day, resume those paused for funds once paid for."""
        for order_id in ids:
            try:
                subscription_chores(order_id=order_id, owner=self.name)
            except PanelError as exc:
                log.info("subscription %s: %s", order_id, exc.message)
                record.work_released(model=Order, row_id=order_id, owner=self.name)

    # -- refills ----------------------------------------------------------------------------

    def _refill_forward_claimed(self, ids: list[int]) -> None:
        # Asking twice for a refill is harmless, so every fault is simply retried.
        for chunk, replies in self._calls(
            Refill,
            ids,
            lambda client, rows: client.refills([r.order.provider_order_id for r in rows]),
        ):
            for refill in chunk:
                reply = replies.get(refill.order.provider_order_id)
                if isinstance(reply, int):
                    record.refill_forward_recorded(
                        refill_id=refill.pk,
                        owner=self.name,
                        provider_refill_id=reply,
                        poll_at=timezone.now() + self.config.poll_interval,
                    )
                elif not isinstance(reply, RemoteError) or reply.retryable:
                    # No answer for it, or "try again later": not a verdict on the refill.
                    self._later(Refill, [refill], RuntimeError(f"refill: {_why(reply)}"))
                else:
                    record.refill_forward_refused(
                        refill_id=refill.pk, owner=self.name, why=reply.message
                    )

    def _refill_poll_claimed(self, ids: list[int]) -> None:
        for chunk, replies in self._calls(
            Refill,
            ids,
            lambda client, rows: client.refill_statuses([r.provider_refill_id for r in rows]),
        ):
            for refill in chunk:
                new = map_refill_status(replies.get(refill.provider_refill_id))
                done = new is not None and new not in ACTIVE_REFILL_STATUSES
                record.refill_status_followed(
                    refill=refill,
                    owner=self.name,
                    to=new
                    if new is not None and can_transition_refill(refill.status, new)
                    else None,
                    next_at=None if done else timezone.now() + self.config.poll_interval,
                )

    # -- providers --------------------------------------------------------------------------

    def _balance(self, ids: list[int]) -> int:
        now = timezone.now()
        due = Provider.objects.filter(enabled=True).filter(
            Q(balance_checked_at__isnull=True)
            | Q(balance_checked_at__lt=now - self.config.balance_every)
        )
        for provider in due:
            if not record.provider_balance_claimed(provider=provider, now=now):
                continue
            try:
                reply = self.client(provider).balance()
            except ProviderError as exc:
                self._provider_failed(provider, exc)
                continue
            record.provider_balance_recorded(
                provider=provider, balance=reply.balance, currency=reply.currency
            )
        # Balance checks are a background chore: they never keep the loop from idling.
        return 0
