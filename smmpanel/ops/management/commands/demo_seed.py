"""Seed the demo: a catalog with every order type bought from the simulator, an admin,
a customer with a balance.

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
from smmpanel.core.secret_files import read_secret, write_secret
from smmpanel.providers.models import Provider
from smmpanel.providers.services import marked_up, provider_create
from smmpanel.simulator.server import DEFAULT_SERVICES

T = ServiceType
#: The demo buys from the simulator (`smmpanel simulator`) at this markup.
DEMO_MARKUP = ("percent", Decimal(25))
#: Beside the provider's subscriptions, one fulfilled by hand, to show the operator's side.
MANUAL_SUBSCRIPTION = ("Instagram Auto Likes (by hand)", "0.35", 50, 5000)


class Command(BaseCommand):
    help = "Seed the demo catalog, admin and customer; print how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--customer", default="demo")
        parser.add_argument("--balance", default="100.00")
        parser.add_argument(
            "--simulator-port",
            default=os.environ.get("SIM_PORT", "9100"),
            help="Where the demo's provider (smmpanel simulator) listens",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        var = Path(settings.VAR_DIR)
        self._catalog(int(opts["simulator_port"]))
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

    @transaction.atomic
    def _catalog(self, simulator_port: int) -> None:
        """The simulator's catalog at a 25% markup, bought from it; a subscription by hand."""
        url = f"http://127.0.0.1:{simulator_port}/api/v2"
        provider = Provider.objects.filter(name="Simulator").first()
        if provider is None:
            provider = provider_create(name="Simulator", api_url=url, api_key="sim-key")
        elif provider.api_url != url:
            Provider.objects.filter(pk=provider.pk).update(api_url=url)
        for position, item in enumerate(DEFAULT_SERVICES):
            if not item.enabled:
                continue
            category, _ = Category.objects.get_or_create(
                name=item.category, defaults={"position": position}
            )
            Service.objects.get_or_create(
                provider=provider,
                provider_service_id=item.service,
                defaults=dict(
                    name=item.name, category=category, type=item.type,
                    rate=marked_up(Decimal(item.rate), *DEMO_MARKUP), min=item.min, max=item.max,
                    refill=item.refill, cancel=item.cancel,
                    # Every Default service takes drip-feed: where the provider's does not,
                    # the panel sends the runs itself.
                    dripfeed=item.dripfeed or item.type == T.DEFAULT,
                    provider_dripfeed=item.dripfeed, provider_rate=Decimal(item.rate),
                    markup_kind=DEMO_MARKUP[0], markup_value=DEMO_MARKUP[1], position=position,
                    description=f"Bought from the demo provider (its service {item.service}).",
                ),
            )  # fmt: skip
        name, rate, low, high = MANUAL_SUBSCRIPTION
        category, _ = Category.objects.get_or_create(name="Subscriptions")
        Service.objects.get_or_create(
            name=name,
            defaults=dict(
                category=category, type=T.SUBSCRIPTIONS, rate=Decimal(rate), min=low, max=high,
                cancel=True, position=len(DEFAULT_SERVICES),
                description="Fulfilled by the operator: a child order per new post.",
            ),
        )  # fmt: skip

    def _admin(self, path: Path) -> str:
        User = get_user_model()
        password = read_secret(path)
        admin = User.objects.filter(username="admin").first()
        if admin is None or not password or not admin.check_password(password):
            password = secrets.token_urlsafe(12)
            if admin is None:
                User.objects.create_superuser("admin", "admin@example.com", password)
            else:
                admin.set_password(password)
                admin.save(update_fields=["password"])
            write_secret(path, password)
        return password

    def _customer(self, username: str, balance: str, path: Path) -> str:
        customer = Customer.objects.filter(user__username=username).first()
        key = read_secret(path)
        if customer is None:
            customer, key = customer_create(
                username=username, balance=balance, password=secrets.token_urlsafe(12)
            )
        elif not key or getattr(customer_by_api_key(key), "pk", None) != customer.pk:
            _, key = api_key_create(customer=customer, label="demo")
        # The key alone, so scripts can read it with $(cat var/demo-api-key).
        write_secret(path, key)
        return key
