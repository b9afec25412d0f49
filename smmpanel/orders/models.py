"""Orders, refills and the history of both.

An order's `charge` is what the customer paid when placing it (subscriptions pay per post,
through child orders). `remains` is what was not delivered; a Partial refunds it at the
order's own `rate`, so later price changes never change a refund.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from smmpanel.catalog.models import ServiceType
from smmpanel.core.money import MAX_DIGITS, PLACES, ZERO
from smmpanel.orders.states import ACTIVE_REFILL_STATUSES, OrderStatus, RefillStatus


class ForwardState(models.TextChoices):
    """Where an order (or refill) stands with its upstream provider."""

    MANUAL = "manual"  #: no provider: the operator fulfils it by hand
    QUEUED = "queued"  #: to be sent upstream; safe to send (never sent before)
    SENDING = "sending"  #: a worker is sending it right now; if that worker dies: ambiguous
    SENT = "sent"  #: the provider accepted it; we follow its status
    HELD = "held"  #: the send may or may not have reached the provider: the operator decides
    FAILED = "failed"  #: the provider refused it; refunded
    UNSENT = "unsent"  #: canceled before it was ever sent
    #: A drip-feed the panel runs itself: every `interval` minutes one run of `quantity`
    #: goes out as a child order (fulfilled by its provider or by hand); see orders/dripfeed.
    DRIPFEED = "dripfeed"


class WorkerJob(models.Model):
    """The columns that make a row the worker's job: where it stands with its provider,
    when to look at it next, and the lease of the worker looking at it (core/queue.py)."""

    forward_state = models.CharField(
        max_length=10, choices=ForwardState.choices, default=ForwardState.MANUAL, editable=False
    )
    #: When the worker should next look at it (send, poll, cancel); null: nothing to do.
    next_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_owner = models.CharField(max_length=100, blank=True, editable=False)
    attempts = models.PositiveIntegerField(default=0, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        abstract = True


class Order(WorkerJob):
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="orders")
    type = models.CharField(max_length=40, choices=ServiceType.choices, editable=False)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING, editable=False
    )

    # What to deliver, by type (api-v2.md's table); unused fields stay empty.
    link = models.CharField(max_length=2000, blank=True)
    quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per run, for drip-feed."
    )
    runs = models.PositiveIntegerField(null=True, blank=True)
    interval = models.PositiveIntegerField(null=True, blank=True, help_text="Minutes between runs.")
    comments = models.TextField(blank=True)
    usernames = models.TextField(blank=True)
    hashtags = models.TextField(blank=True)
    hashtag = models.CharField(max_length=300, blank=True)
    username = models.CharField(max_length=300, blank=True)
    media = models.CharField(max_length=2000, blank=True)
    answer_number = models.CharField(max_length=50, blank=True)
    groups = models.TextField(blank=True)

    # Subscriptions: every new post gets a child order of min..max units after `delay`.
    sub_min = models.PositiveIntegerField(null=True, blank=True)
    sub_max = models.PositiveIntegerField(null=True, blank=True)
    sub_posts = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    sub_old_posts = models.PositiveIntegerField(null=True, blank=True)
    sub_delay = models.PositiveIntegerField(null=True, blank=True, help_text="Minutes.")
    sub_expiry = models.DateField(null=True, blank=True)
    #: Why a subscription is Paused: "funds" (resumes by itself once the balance pays for a
    #: post) or "operator".
    paused_for = models.CharField(max_length=10, blank=True, editable=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    # Money, fixed when the order is placed.
    rate = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES, editable=False)
    charged_quantity = models.PositiveIntegerField(
        default=0, editable=False, help_text="Units paid for (1 for a package)."
    )
    charge = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=PLACES, default=ZERO, editable=False
    )

    # Progress.
    start_count = models.BigIntegerField(null=True, blank=True, editable=False)
    remains = models.BigIntegerField(default=0, editable=False)
    completed_runs = models.PositiveIntegerField(default=0, editable=False)
    posts_delivered = models.PositiveIntegerField(default=0, editable=False)
    cancel_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Upstream fulfilment; the order row is the worker's job (design.md rule 8).
    provider = models.ForeignKey(
        "providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    provider_service_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    provider_order_id = models.BigIntegerField(null=True, blank=True, editable=False)
    provider_charge = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=PLACES, null=True, blank=True, editable=False
    )
    provider_status = models.CharField(max_length=40, blank=True, editable=False)
    cancel_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(charge__gte=0), name="order_charge_nonnegative"),
            models.CheckConstraint(condition=Q(remains__gte=0), name="order_remains_nonnegative"),
            # Names the type, not the kind: a constraint is SQL and cannot ask the registry,
            # and changing it takes a migration. A subscription counts no remains of its own
            # (`SubscriptionKind.counters`); a subscription kind added later under another
            # type needs its type added here.
            models.CheckConstraint(
                condition=Q(remains__lte=models.F("charged_quantity"))
                | Q(type=ServiceType.SUBSCRIPTIONS),
                name="order_remains_le_charged",
            ),
            # One provider order is one order here: two orders following it would each be
            # refunded (or charged) for the same delivery. Every id a provider gives us - an
            # `add`'s answer, a subscription's post, an id the operator attaches - is its
            # own order there; orders with no provider carry none.
            models.UniqueConstraint(
                fields=["provider", "provider_order_id"],
                condition=Q(provider_order_id__isnull=False),
                name="order_one_per_provider_order",
            ),
        ]
        indexes = [
            # The "active order with this link" check and the customer's order list.
            models.Index(fields=["customer", "service", "status"]),
            models.Index(fields=["status", "id"]),
            # The worker's claim: due rows of one forward state, in due order.
            models.Index(fields=["forward_state", "next_check_at", "id"]),
            # The customer's pages, newest first a page at a time (keyset on id, never
            # OFFSET): the orders they placed (runs and posts are shown under their order),
            # all of them or one status; their drip-feeds; their subscriptions. Partial, so
            # each is only as big as what it lists.
            models.Index(
                fields=["customer", "id"],
                condition=Q(parent__isnull=True),
                name="order_customer_placed",
            ),
            models.Index(
                fields=["customer", "status", "id"],
                condition=Q(parent__isnull=True),
                name="order_customer_status",
            ),
            models.Index(
                fields=["customer", "id"],
                condition=Q(runs__isnull=False),
                name="order_customer_dripfeeds",
            ),
            models.Index(
                fields=["customer", "id"],
                condition=Q(type=ServiceType.SUBSCRIPTIONS),
                name="order_customer_subscriptions",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} {self.status}"

    @property
    def is_subscription(self) -> bool:
        # Imported here: the kinds are defined over this model.
        from smmpanel.orders.kinds import KINDS

        kind = KINDS.get(self.type)
        return kind is not None and kind.is_subscription


class Refill(WorkerJob):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refills")
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="refills"
    )
    status = models.CharField(
        max_length=20, choices=RefillStatus.choices, default=RefillStatus.PENDING, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    provider_refill_id = models.BigIntegerField(null=True, blank=True, editable=False)
    #: A drip-feed the panel runs is refilled run by run: one part per run at a provider,
    #: and this refill's status follows its parts' (forward_state "dripfeed").
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="parts"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["forward_state", "next_check_at", "id"]),
            # The customer's refills page, newest first (keyset on id).
            models.Index(fields=["customer", "id"], name="refill_customer_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=sorted(s.value for s in ACTIVE_REFILL_STATUSES)),
                name="refill_one_active_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"refill #{self.pk} of order #{self.order_id}: {self.status}"


class OrderEvent(models.Model):
    """What happened to an order or refill, by whom; written with every change, never edited."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    refill = models.ForeignKey(
        Refill, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        # Empty: the admin shows events inline under their order, one row per event.
        return ""
