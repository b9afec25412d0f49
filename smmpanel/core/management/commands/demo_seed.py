"""Seed the demo: a catalog with every order type, an admin, a customer with a balance.

Safe to run on every start: it creates what is missing and reuses what is there. The admin
password and the customer's API key are kept in var/ (mode 0600) so they can be shown again.
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from smmpanel.accounts.models import Customer
from smmpanel.accounts.selectors import customer_by_api_key
from smmpanel.accounts.services import api_key_create, customer_create
from smmpanel.catalog.models import Category, Service, ServiceType

T = ServiceType
#: (category, name, type, rate, min, max, refill, cancel, dripfeed)
CATALOG: list[tuple[str, str, str, str, int, int, bool, bool, bool]] = [
    ("Instagram Followers", "Instagram Followers [Real, 30-day refill]", T.DEFAULT, "0.90", 50, 10000, True, True, True),
    ("Instagram Followers", "Instagram Followers Package [1000]", T.PACKAGE, "1.20", 1, 1, False, False, False),
    ("Instagram Comments", "Instagram Custom Comments", T.CUSTOM_COMMENTS, "8.00", 10, 1500, False, True, False),
    ("Instagram Comments", "Instagram Custom Comments Package [10]", T.CUSTOM_COMMENTS_PACKAGE, "0.75", 1, 1, False, False, False),
    ("Instagram Mentions", "Instagram Mentions with Hashtags", T.MENTIONS_WITH_HASHTAGS, "2.50", 100, 50000, False, False, False),
    ("Instagram Mentions", "Instagram Mentions Custom List", T.MENTIONS_CUSTOM_LIST, "3.00", 10, 5000, False, False, False),
    ("Instagram Mentions", "Instagram Mentions Hashtag", T.MENTIONS_HASHTAG, "2.20", 100, 50000, False, False, False),
    ("Instagram Mentions", "Instagram Mentions User Followers", T.MENTIONS_USER_FOLLOWERS, "2.40", 100, 50000, False, False, False),
    ("Instagram Mentions", "Instagram Mentions Media Likers", T.MENTIONS_MEDIA_LIKERS, "2.60", 100, 50000, False, False, False),
    ("Instagram Comments", "Instagram Comment Likes", T.COMMENT_LIKES, "1.10", 20, 20000, True, True, False),
    ("Instagram Comments", "Instagram Comment Replies", T.COMMENT_REPLIES, "9.00", 1, 500, False, False, False),
    ("Twitter", "Twitter Poll Votes", T.POLL, "1.50", 100, 100000, False, True, False),
    ("Telegram", "Telegram Invites from Groups", T.INVITES_FROM_GROUPS, "4.00", 100, 20000, False, False, False),
    ("Instagram Auto", "Instagram Auto Likes (subscription)", T.SUBSCRIPTIONS, "0.35", 50, 5000, False, True, False),
]  # fmt: skip


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")


def _read(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


class Command(BaseCommand):
    help = "Seed the demo catalog, admin and customer; print how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--customer", default="demo")
        parser.add_argument("--balance", default="100.00")

    def handle(self, *args: Any, **opts: Any) -> None:
        var = Path(settings.VAR_DIR)
        with transaction.atomic():
            for position, (cat, name, kind, rate, lo, hi, refill, cancel, drip) in enumerate(
                CATALOG
            ):
                category, _ = Category.objects.get_or_create(
                    name=cat, defaults={"position": position}
                )
                Service.objects.get_or_create(
                    name=name,
                    defaults=dict(
                        category=category, type=kind, rate=Decimal(rate), min=lo, max=hi,
                        refill=refill, cancel=cancel, dripfeed=drip, position=position,
                        description=f"Demo service of type {kind}.",
                    ),
                )  # fmt: skip

        password = self._admin(var / "demo-admin-password")
        key = self._customer(opts["customer"], opts["balance"], var / "demo-api-key")
        url = f"http://127.0.0.1:{opts['port']}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  smmpanel demo      {url}/",
                    f"  Admin site         {url}/admin/   user: admin   password: {password}",
                    f"  API endpoint       {url}/api/v2",
                    f"  Customer API key   {key}   (also in {var / 'demo-api-key'})",
                    f"  Try it:  curl -d key={key} -d action=balance {url}/api/v2",
                    "",
                ]
            )
        )

    def _admin(self, path: Path) -> str:
        User = get_user_model()
        password = _read(path)
        admin = User.objects.filter(username="admin").first()
        if admin is None or not password or not admin.check_password(password):
            password = secrets.token_urlsafe(12)
            if admin is None:
                User.objects.create_superuser("admin", "admin@example.com", password)
            else:
                admin.set_password(password)
                admin.save(update_fields=["password"])
            _write_secret(path, password)
        return password

    def _customer(self, username: str, balance: str, path: Path) -> str:
        customer = Customer.objects.filter(user__username=username).first()
        key = _read(path)
        if customer is None:
            customer, key = customer_create(
                username=username, balance=balance, password=secrets.token_urlsafe(12)
            )
        elif not key or getattr(customer_by_api_key(key), "pk", None) != customer.pk:
            _, key = api_key_create(customer=customer, label="demo")
        # The key alone, so scripts can read it with $(cat var/demo-api-key).
        _write_secret(path, key)
        return key
