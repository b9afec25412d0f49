"""The catalog: what a panel sells, grouped in categories, priced per 1000 units."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from smmpanel.core.money import MAX_DIGITS, PLACES


class ServiceType(models.TextChoices):
    """The 14 order types of API v2; the value is the exact string on the wire."""

    DEFAULT = "Default"
    PACKAGE = "Package"
    CUSTOM_COMMENTS = "Custom Comments"
    CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
    MENTIONS_WITH_HASHTAGS = "Mentions with Hashtags", "Mentions with Hashtags"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_HASHTAG = "Mentions Hashtag"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    MENTIONS_MEDIA_LIKERS = "Mentions Media Likers"
    COMMENT_LIKES = "Comment Likes"
    COMMENT_REPLIES = "Comment Replies"
    POLL = "Poll"
    INVITES_FROM_GROUPS = "Invites from Groups", "Invites from Groups"
    SUBSCRIPTIONS = "Subscriptions"


class Category(models.Model):
    name = models.CharField(max_length=200, unique=True)
    position = models.IntegerField(default=0, help_text="Lower comes first.")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    name = models.CharField(max_length=300)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="services")
    type = models.CharField(max_length=40, choices=ServiceType.choices, default=ServiceType.DEFAULT)
    rate = models.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=PLACES,
        help_text="Price per 1000 units (for package types: the price of one package).",
    )
    min = models.PositiveIntegerField(default=1)
    max = models.PositiveIntegerField(default=10000)
    refill = models.BooleanField(default=False)
    refill_days = models.PositiveIntegerField(
        default=30, help_text="How long after completion a refill may be asked for."
    )
    cancel = models.BooleanField(default=False)
    dripfeed = models.BooleanField(
        default=False,
        help_text="Customers may order drip-feed (runs, interval). When the provider's service "
        "does not take drip-feed itself, the panel sends the runs one by one.",
    )
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    position = models.IntegerField(default=0, help_text="Lower comes first in its category.")
    # Where orders are bought: empty provider = fulfilled by hand by the operator.
    provider = models.ForeignKey(
        "providers.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services",
    )
    provider_service_id = models.PositiveBigIntegerField(null=True, blank=True)
    provider_dripfeed = models.BooleanField(
        default=False, help_text="The provider's service takes runs and interval itself."
    )
    provider_rate = models.DecimalField(
        max_digits=MAX_DIGITS,
        decimal_places=PLACES,
        null=True,
        blank=True,
        help_text="What the provider charges per 1000, as last seen.",
    )
    #: How our rate follows the provider's on price sync: "percent" or "fixed" markup.
    markup_kind = models.CharField(
        max_length=10, choices=[("percent", "percent"), ("fixed", "fixed")], blank=True
    )
    markup_value = models.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=PLACES, null=True, blank=True
    )
    provider_missing_since = models.DateTimeField(
        null=True, blank=True, help_text="The provider stopped listing this service."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__position", "category_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0), name="service_rate_nonnegative"),
            models.CheckConstraint(condition=Q(min__gte=1), name="service_min_positive"),
            models.CheckConstraint(
                condition=Q(max__gte=models.F("min")), name="service_max_ge_min"
            ),
        ]
        indexes = [models.Index(fields=["enabled", "position"])]

    def __str__(self) -> str:
        return f"{self.pk}: {self.name}"
