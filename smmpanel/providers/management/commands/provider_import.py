from __future__ import annotations

from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import track
from rich.table import Table

from smmpanel.core.errors import PanelError
from smmpanel.providers.client import ProviderError
from smmpanel.providers.models import Provider
from smmpanel.providers.services import (
    import_preview,
    parse_markup,
    price_sync,
    provider_client,
    services_import,
)


class Command(BaseCommand):
    help = (
        "Import a provider's services with a markup (preview with --dry-run), "
        "or --sync prices of services already imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", required=True, help="Provider name")
        parser.add_argument("--markup", default="0%", help="25%% or a fixed amount per 1000")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change")
        parser.add_argument("--disabled", action="store_true", help="Import new ones disabled")
        parser.add_argument("--sync", action="store_true", help="Price sync only")

    def handle(self, *args: Any, **opts: Any) -> None:
        # OutputWrapper writes through to the real stream (or a test's StringIO).
        console = Console(file=cast("IO[str]", self.stdout))
        provider = Provider.objects.filter(name=opts["provider"]).first()
        if provider is None:
            raise CommandError(f"No provider {opts['provider']!r}")
        try:
            markup = parse_markup(opts["markup"])
            with provider_client(provider) as client:
                remote = client.services()
        except PanelError as exc:
            raise CommandError(exc.message) from exc
        except ProviderError as exc:
            raise CommandError(f"The provider did not answer usefully: {exc}") from exc

        if opts["sync"]:
            report = price_sync(provider=provider, remote=remote)
            for pk, old, new in report.rate_changed:
                console.print(f"service {pk}: rate {old} -> {new}")
            for pk in report.vanished:
                console.print(f"service {pk}: no longer offered by the provider; disabled")
            for pk in report.returned:
                console.print(f"service {pk}: offered again (still disabled; enable it by hand)")
            console.print(
                f"{len(report.rate_changed)} rate change(s), {len(report.vanished)} vanished, "
                f"{len(report.returned)} returned, {len(report.limits_changed)} min/max change(s)"
            )
            return

        rows = import_preview(provider=provider, remote=remote, markup=markup)
        if opts["dry_run"]:
            table = Table("remote id", "name", "type", "cost", "our rate", "action")
            for row in rows:
                table.add_row(
                    str(row.remote.service), row.remote.name[:50], row.remote.type,
                    str(row.remote.rate), str(row.rate), f"{row.action} {row.reason}".strip(),
                )  # fmt: skip
            console.print(table)
            return
        counts = services_import(
            provider=provider,
            rows=rows,
            markup=markup,
            enable=not opts["disabled"],
            progress=lambda items: track(items, description="Importing", console=console),
        )
        console.print(", ".join(f"{n} {what}" for what, n in counts.items()))
