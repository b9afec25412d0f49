"""Orders in the admin: read-only rows, moved only by actions that call the services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from smmpanel.core.admin_forms import ProgressActionForm, action_value, run_each
from smmpanel.core.errors import PanelError
from smmpanel.core.parsing import parse_whole
from smmpanel.orders.held import held_attach, held_refund, held_resend
from smmpanel.orders.kinds import Drive, kind_of
from smmpanel.orders.models import ForwardState, Order, OrderEvent, Refill
from smmpanel.orders.services import (
    SETTLED,
    order_cancel,
    order_fulfil,
    order_progress,
    order_settle,
    refill_transition,
)
from smmpanel.orders.states import FINAL_STATUSES, OrderStatus, RefillStatus
from smmpanel.orders.subscriptions import (
    subscription_deliver_post,
    subscription_pause,
    subscription_resume,
    subscription_stop,
)


def _number(request: HttpRequest, name: str) -> int | None:
    raw = action_value(request, name)
    if not raw:
        return None
    value = parse_whole(raw)
    if value is None or value < 0:
        raise PanelError(f"{name} must be a whole number")
    return value


class SettleForm(forms.Form):
    """The intermediate page of "Settle without telling the provider": how it ended, why."""

    outcome = forms.ChoiceField(
        choices=[(s.value, s.label) for s in OrderStatus if s in SETTLED],
        widget=forms.RadioSelect,
        help_text="Completed: nothing refunded. Partial: the remains given for each order are "
        "refunded. Canceled: the whole charge is refunded.",
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Kept in each order's history with your name.",
        error_messages={"required": "Give the reason: it is kept in the order's history."},
    )


class ReadOnlyInline(admin.TabularInline[Any, Order]):
    """A table of related rows shown under an order: never added, edited or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return list(cast("Sequence[str]", self.fields or ()))  # flat tuples of names here

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fk_name = "order"
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "data")


class RefillInline(ReadOnlyInline):
    """The order's refill history, newest first; refills are moved from their own page."""

    model = Refill
    fk_name = "order"
    show_change_link = True
    fields = ("id", "created_at", "status", "forward_state", "provider_refill_id", "last_error")


class ChildOrderInline(ReadOnlyInline):
    """The runs of a drip-feed the panel sends, or the posts' orders of a subscription."""

    model = Order
    fk_name = "parent"
    verbose_name = "run or post order"
    verbose_name_plural = "runs and post orders"
    show_change_link = True
    fields = (
        "id", "created_at", "status", "link", "charged_quantity", "charge", "remains",
        "forward_state", "provider_order_id",
    )  # fmt: skip


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]  # type: ignore[attr-defined]


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, admin.ModelAdmin[Order]):
    list_display = (
        "id", "created_at", "customer", "service", "link", "charged_quantity", "charge",
        "start_count", "remains", "status", "forward_state", "cancel_requested_at", "attention",
    )  # fmt: skip
    list_filter = (
        "status", "forward_state", "provider", "type",
        ("cancel_requested_at", admin.EmptyFieldListFilter),
    )  # fmt: skip
    search_fields = ("=id", "link", "customer__user__username")
    list_select_related = ("customer__user", "service")
    date_hierarchy = "created_at"
    inlines = (ChildOrderInline, RefillInline, OrderEventInline)

    def get_inlines(self, request: HttpRequest, obj: Order | None) -> list[type]:
        """Runs only on drip-feeds and subscriptions, refills only where there are some."""
        shown: list[type] = [OrderEventInline]
        if obj is not None and obj.refills.exists():
            shown.insert(0, RefillInline)
        if obj is not None and (obj.is_subscription or obj.children.exists()):
            shown.insert(0, ChildOrderInline)
        return shown

    fieldsets = (
        (None, {"fields": (
            "customer", "service", "type", "status", "link", "charged_quantity", "rate", "charge",
            "start_count", "remains", "cancel_requested_at", "created_at", "updated_at",
            "finished_at",
        )}),
        ("Provider", {"fields": (
            "provider", "provider_service_id", "provider_order_id", "provider_status",
            "provider_charge", "forward_state", "last_error", "attempts", "next_check_at",
            "lease_owner", "lease_until", "cancel_sent_at",
        )}),
        ("Drip-feed", {"classes": ("collapse",),
                       "fields": ("quantity", "runs", "interval", "completed_runs")}),
        ("Type parameters", {"classes": ("collapse",), "fields": (
            "comments", "usernames", "hashtags", "hashtag", "username", "media", "answer_number",
            "groups",
        )}),
        ("Subscription", {"classes": ("collapse",), "fields": (
            "sub_min", "sub_max", "sub_posts", "sub_old_posts", "sub_delay", "sub_expiry",
            "posts_delivered", "paused_for", "parent",
        )}),
    )  # fmt: skip
    action_form = ProgressActionForm
    actions = (
        "start", "progress", "complete", "partial", "cancel", "settle",
        "held_resend", "held_attach", "held_refund",
        "subscription_post", "subscription_pause", "subscription_resume", "subscription_stop",
    )  # fmt: skip

    @admin.display(description="needs you")
    def attention(self, order: Order) -> str:
        """What waits on the operator: a held send (and a customer's cancel waiting on it),
        or a cancel the provider refused."""
        if order.forward_state == ForwardState.HELD:
            return "held, cancel asked" if order.cancel_requested_at else "held"
        if order.status not in FINAL_STATUSES and order.last_error.startswith(
            "cancel refused upstream"
        ):
            return "cancel refused upstream"
        return ""

    @admin.action(description="Subscription by hand: a new post (link and quantity given)")
    def subscription_post(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"

        def post(order: Order) -> None:
            quantity = _number(request, "quantity")
            if quantity is None:
                raise PanelError("Give the quantity delivered for the post")
            subscription_deliver_post(
                order_id=order.pk,
                link=action_value(request, "post_link"),
                quantity=quantity,
                actor=actor,
            )

        run_each(request, self, queryset, post, "Post")

    @admin.action(description="Subscription: pause (no post is charged until resumed)")
    def subscription_pause(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"
        run_each(
            request, self, queryset,
            lambda o: subscription_pause(order_id=o.pk, actor=actor), "Pause",
        )  # fmt: skip

    @admin.action(description="Subscription: resume")
    def subscription_resume(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"
        run_each(
            request, self, queryset,
            lambda o: subscription_resume(order_id=o.pk, actor=actor), "Resume",
        )  # fmt: skip

    @admin.action(description="Subscription: stop (Canceled; its posts' orders go on)")
    def subscription_stop(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"
        run_each(
            request, self, queryset,
            lambda o: subscription_stop(
                order_id=o.pk, actor=actor, reason="stopped by the operator"
            ),
            "Stop",
        )  # fmt: skip

    @admin.action(
        description="Held: the provider does not have it - send again (canceled instead if "
        "the customer asked to cancel)"
    )
    def held_resend(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"

        def resend(order: Order) -> None:
            done = held_resend(order_id=order.pk, actor=actor)
            if done.forward_state == ForwardState.UNSENT:
                self.message_user(
                    request,
                    f"Order #{order.pk} is {done.status} and was not sent again"
                    + (
                        ": the customer had asked to cancel it; the whole charge is refunded."
                        if order.cancel_requested_at
                        else "."
                    ),
                    messages.INFO,
                )

        run_each(request, self, queryset, resend, "Resend")

    @admin.action(description="Held: the provider has it - follow the provider order id given")
    def held_attach(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"

        def attach(order: Order) -> None:
            number = _number(request, "provider_order_id")
            if number is None:
                raise PanelError("Give the provider's order id")
            done = held_attach(order_id=order.pk, provider_order_id=number, actor=actor)
            if done.cancel_requested_at is not None and done.cancel_sent_at is None:
                self.message_user(
                    request,
                    f"Order #{order.pk}: a cancel was asked for while it was held: the "
                    "provider's cancel goes out at the worker's next round.",
                    messages.INFO,
                )

        run_each(request, self, queryset, attach, "Attach")

    @admin.action(description="Held: give up - cancel with a full refund")
    def held_refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"
        run_each(
            request, self, queryset, lambda o: held_refund(order_id=o.pk, actor=actor), "Refund"
        )

    def _move(self, request: HttpRequest, queryset: QuerySet[Order], to: OrderStatus) -> None:
        actor = f"admin:{request.user}"
        run_each(
            request,
            self,
            queryset,
            lambda o: order_fulfil(
                order_id=o.pk,
                to=to,
                actor=actor,
                remains=_number(request, "remains"),
                start_count=_number(request, "start_count"),
            ),
            f"Mark {to}",
        )

    @admin.action(description="By hand: start (In progress), with the start count given")
    def start(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move(request, queryset, OrderStatus.IN_PROGRESS)

    @admin.action(description="By hand: record progress (remains / start count given)")
    def progress(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"
        run_each(
            request,
            self,
            queryset,
            lambda o: order_progress(
                order_id=o.pk,
                actor=actor,
                remains=_number(request, "remains"),
                start_count=_number(request, "start_count"),
            ),
            "Progress",
        )

    @admin.action(description="By hand: complete (everything delivered)")
    def complete(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move(request, queryset, OrderStatus.COMPLETED)

    @admin.action(description="By hand: partial, refund the remains given")
    def partial(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move(request, queryset, OrderStatus.PARTIAL)

    @admin.action(
        description="Cancel (by hand: refund the whole charge; at a provider: its cancel, "
        "refunded as it answers; drip-feed: stop the runs; subscription: stop)"
    )
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = f"admin:{request.user}"

        def cancel_one(order: Order) -> None:
            done = order_cancel(order_id=order.pk, actor=actor)
            # Ended, or stopped its kind's own way (a drip-feed's runs): nothing waits upstream.
            if done.status in FINAL_STATUSES or kind_of(done).drive is not Drive.FORWARD:
                return
            waiting = (
                "it is held: the cancel is honoured when you settle the held send"
                if done.forward_state == ForwardState.HELD
                else "the provider's cancel goes out at the worker's next round, and the "
                "order ends Canceled or Partial as the provider answers"
            )
            self.message_user(
                request, f"Order #{order.pk}: cancel requested; {waiting}.", messages.INFO
            )

        run_each(request, self, queryset, cancel_one, "Cancel")

    @admin.action(description="Settle without telling the provider... (with a reason)")
    def settle(self, request: HttpRequest, queryset: QuerySet[Order]) -> TemplateResponse | None:
        """Record how orders ended without a word to their provider, after a page that shows
        what is known of each at its provider and asks for the outcome and a reason."""
        form = SettleForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            actor = f"admin:{request.user}"
            outcome = OrderStatus(form.cleaned_data["outcome"])
            reason = form.cleaned_data["reason"]
            run_each(
                request,
                self,
                queryset,
                lambda o: order_settle(
                    order_id=o.pk,
                    to=outcome,
                    actor=actor,
                    reason=reason,
                    remains=_number(request, f"remains_{o.pk}"),
                ),
                "Settle",
            )
            return None  # back to the list, with what was done and what was refused
        orders = list(queryset.select_related("provider", "customer__user").order_by("id"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Settle without telling the provider",
            "opts": self.model._meta,
            "orders": [(o, request.POST.get(f"remains_{o.pk}", "")) for o in orders],
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/settle.html", context)


@admin.register(Refill)
class RefillAdmin(ReadOnlyMixin, admin.ModelAdmin[Refill]):
    list_display = (
        "id", "order", "customer", "status", "forward_state", "created_at", "updated_at",
    )  # fmt: skip
    list_filter = ("status", "forward_state")
    search_fields = ("=id", "=order__id", "customer__user__username")
    list_select_related = ("customer__user", "order")
    actions = ("accept", "complete", "reject")

    def _move(self, request: HttpRequest, queryset: QuerySet[Refill], to: RefillStatus) -> None:
        actor = f"admin:{request.user}"
        run_each(
            request,
            self,
            queryset,
            lambda r: refill_transition(refill_id=r.pk, to=to, actor=actor),
            f"Refill {to}",
        )

    @admin.action(description="Accept (In progress)")
    def accept(self, request: HttpRequest, queryset: QuerySet[Refill]) -> None:
        self._move(request, queryset, RefillStatus.IN_PROGRESS)

    @admin.action(description="Complete")
    def complete(self, request: HttpRequest, queryset: QuerySet[Refill]) -> None:
        self._move(request, queryset, RefillStatus.COMPLETED)

    @admin.action(description="Reject")
    def reject(self, request: HttpRequest, queryset: QuerySet[Refill]) -> None:
        self._move(request, queryset, RefillStatus.REJECTED)


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyMixin, admin.ModelAdmin[OrderEvent]):
    list_display = (
        "id",
        "created_at",
        "order",
        "refill",
        "kind",
        "from_status",
        "to_status",
        "actor",
    )
    list_filter = ("kind",)
    search_fields = ("=order__id",)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
