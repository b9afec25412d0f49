"""Seed the demo: a catalog with every order type bought from the simulator, an admin,
a customer with a balance — once.

`make run` runs it on every start, so it seeds only a panel with no superuser yet (a fresh
database) and, once the admin exists, never changes anything again: not the admin's
password, not a price, a switch, a balance or a key the operator changed, nor what they
deleted. A panel whose operator made their own superuser first gets no demo at all. Later
runs only print how to log in, with the credentials kept in var/ (mode 0600) while they
still work, and point the demo provider at the simulator's port if it moved (and only if
the operator has not pointed it elsewhere).
"""

from __future__ import annotations

import os
import re
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
from smmpanel.billing.models import PaymentMethod
from smmpanel.billing.services import payment_method_create
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
DEMO_PROVIDER = "Simulator"
ADMIN = "admin"
#: The demo provider's URL as seeded: the simulator on loopback. Any other is the operator's.
_SIMULATOR_URL = re.compile(r"http://127\.0\.0\.1:[0-9]+/api/v2")


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
        password_file, key_file = var / "demo-admin-password", var / "demo-api-key"
        customer_password_file = var / "demo-customer-password"
        simulator_url = f"http://127.0.0.1:{opts['simulator_port']}/api/v2"
        User = get_user_model()
        # The admin is made last: until it exists the seed is unfinished, and a rerun ends
        # it (every step before it reuses what an earlier run made).
        if not User.objects.filter(is_superuser=True).exists():
            self._catalog(simulator_url)
            self._customer(opts["customer"], opts["balance"], key_file, customer_password_file)
            self._payment_methods()
            self._admin(password_file)
        else:
            self._follow_simulator(simulator_url)
        url = f"http://127.0.0.1:{opts['port']}"
        key = read_secret(key_file)
        lines = [
            "",
            f"  smmpanel demo      {url}/",
            f"  Admin site         {url}/admin/   {self._login(ADMIN, password_file)}",
            f"  Customer pages     {url}/accounts/login/   "
            f"{self._login(opts['customer'], customer_password_file)}",
            f"  API endpoint       {url}/api/v2",
        ]
        if key and customer_by_api_key(key) is not None:
            lines += [
                f"  Customer API key   {key}   (also in {key_file})",
                f"  Try it:  curl -d key={key} -d action=balance {url}/api/v2",
            ]
        elif key:
            lines.append(
                f"  Customer API key   the one in {key_file} no longer works (revoked, or its"
                " customer disabled): make one in the admin (Customers, Create a new API key)"
            )
        self.stdout.write("\n".join([*lines, ""]))

    def _login(self, username: str, password_file: Path) -> str:
        """How to log in as `username`, without resetting anything."""
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            return "log in with your own account"
        password = read_secret(password_file)
        if password and user.check_password(password):
            return f"user: {username}   password: {password}"
        return f"user: {username}   password: changed since the demo set it (not shown)"

    def _follow_simulator(self, simulator_url: str) -> None:
        """The simulator listens where `make run` says; the demo provider follows it, unless
        the operator pointed the provider somewhere else."""
        provider = Provider.objects.filter(name=DEMO_PROVIDER).first()
        if (
            provider is not None
            and provider.api_url != simulator_url
            and _SIMULATOR_URL.fullmatch(provider.api_url)
        ):
            Provider.objects.filter(pk=provider.pk, api_url=provider.api_url).update(
                api_url=simulator_url
            )

    @transaction.atomic
    def _catalog(self, url: str) -> None:
        """The simulator's catalog at a 25% markup, bought from it; a subscription by hand."""
        provider = Provider.objects.filter(name=DEMO_PROVIDER).first()
        if provider is None:
            provider = provider_create(name=DEMO_PROVIDER, api_url=url, api_key="sim-key")
        else:
            self._follow_simulator(url)
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

    def _payment_methods(self) -> None:
        """Adding funds works out of the box: the demo gateway (a signed callback over
        loopback, no real money) with a bonus, and a manual bank transfer to approve."""
        if not PaymentMethod.objects.filter(code="demo").exists():
            payment_method_create(
                code="demo",
                name="Demo card (no real money)",
                gateway="demo",
                secrets={"signing_secret": secrets.token_urlsafe(32)},
                min_amount=Decimal("1"),
                max_amount=Decimal("1000"),
                bonus_percent=Decimal("5"),
                bonus_from=Decimal("100"),
            )
        if not PaymentMethod.objects.filter(code="bank").exists():
            payment_method_create(
                code="bank",
                name="Bank transfer",
                gateway="manual",
                min_amount=Decimal("10"),
                instructions="Send the amount to IBAN XX00 DEMO 0000 0000 and give us the "
                "transfer's reference: the operator credits it once it arrives.",
            )

    def _admin(self, path: Path) -> None:
        """The demo's superuser, with the password kept in var/ (reused when a database is
        made anew beside it) or a new one."""
        password = read_secret(path) or secrets.token_urlsafe(12)
        get_user_model().objects.create_superuser(ADMIN, "admin@example.com", password)
        write_secret(path, password)

    def _customer(self, username: str, balance: str, path: Path, password_path: Path) -> None:
        customer = Customer.objects.filter(user__username=username).first()
        if customer is None:
            # The password is kept like the admin's, so the demo's customer pages open too.
            password = read_secret(password_path) or secrets.token_urlsafe(12)
            _, key = customer_create(
                username=username,
                balance=balance,
                password=password,
                email=f"{username}@example.com",
            )
            write_secret(password_path, password)
        elif getattr(customer_by_api_key(read_secret(path)), "pk", None) == customer.pk:
            return  # made by an earlier run that stopped before the admin, its key kept
        else:
            _, key = api_key_create(customer=customer, label="demo")
        # The key alone, so scripts can read it with $(cat var/demo-api-key).
        write_secret(path, key)
