# One provider order is followed by at most one order (per provider).

from django.db import migrations, models
from django.db.models import Count

RUNNING = ("Pending", "In progress", "Processing", "Active", "Paused")


def detach_duplicates(apps, schema_editor):
    """Orders attached to a provider order another (older) order already follows lose that
    id, so the constraint can be added. Money already moved stays as it is, for the
    operator to correct with an adjustment; one still running is held again, for the
    operator to attach the right id, resend, or settle. Each keeps an event saying why."""
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    clashes = (
        Order.objects.filter(provider_order_id__isnull=False)
        .values("provider_id", "provider_order_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for clash in clashes:
        first, *others = Order.objects.filter(
            provider_id=clash["provider_id"], provider_order_id=clash["provider_order_id"]
        ).order_by("id")
        for order in others:
            why = (
                f"provider order {clash['provider_order_id']} also belonged to order "
                f"#{first.pk}: detached"
            )
            changes = {"provider_order_id": None}
            if order.status in RUNNING:
                changes.update(
                    forward_state="held",
                    next_check_at=None,
                    lease_until=None,
                    lease_owner="",
                    last_error=why,
                )
            Order.objects.filter(pk=order.pk).update(**changes)
            OrderEvent.objects.create(
                order_id=order.pk,
                kind="detached",
                from_status=order.status,
                to_status=order.status,
                actor="migration",
                data={
                    "provider_order": clash["provider_order_id"],
                    "kept_by": first.pk,
                    "held": order.status in RUNNING,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("catalog", "0002_service_provider_dripfeed"),
        ("orders", "0004_refill_parent"),
        ("providers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(detach_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=models.Q(("provider_order_id__isnull", False)),
                fields=("provider", "provider_order_id"),
                name="order_one_per_provider_order",
            ),
        ),
    ]
