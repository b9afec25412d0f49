from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smmpanel.core.errors import PanelError
from smmpanel.providers.services import provider_create


class Command(BaseCommand):
    help = "Add an upstream provider (its API key is stored encrypted)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--url", required=True, help="e.g. https://provider.example/api/v2")
        parser.add_argument("--key", required=True)
        parser.add_argument("--currency", default="USD")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            provider = provider_create(
                name=opts["name"],
                api_url=opts["url"],
                api_key=opts["key"],
                currency=opts["currency"],
            )
        except PanelError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Provider #{provider.pk} {provider.name} added.")
