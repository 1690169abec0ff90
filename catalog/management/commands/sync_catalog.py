from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.rates import refresh_exchange_rates
from catalog.services import sync_catalog


class Command(BaseCommand):
    help = "Bring the catalog in line with upstream (Roamify), showing progress."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet-progress", action="store_true", help="No progress bar")

    def handle(self, *args, **options) -> None:
        bars: dict[str, tqdm] = {}
        show = not options["quiet_progress"]

        def progress(stage: str, done: int, total: int | None) -> None:
            if not show:
                return
            label = {"fetch": "Fetching packages", "compare": "Comparing", "write": "Writing"}[stage]
            bar = bars.get(stage)
            if bar is None:
                for earlier in bars.values():  # one bar at a time, the finished ones closed
                    earlier.close()
                bar = bars[stage] = tqdm(
                    total=total, desc=label, unit=" pkg", file=self.stderr._out, dynamic_ncols=True
                )
            bar.update(done - bar.n)

        result = sync_catalog(trigger="command", progress=progress)
        for bar in bars.values():
            bar.close()
        run = result.run
        if run.status != run.Status.SUCCEEDED:
            raise CommandError(f"Sync failed after {run.duration_ms} ms: {run.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog synced in {run.duration_ms / 1000:.1f} s: {run.upstream_packages} packages "
                f"upstream over {run.pages} pages; {run.added} added, {run.changed} changed, "
                f"{run.deactivated} deactivated; destinations {run.destinations_added} added, "
                f"{run.destinations_changed} changed; {run.devices} devices updated."
            )
        )
        # The rates too, so a fresh shop (make demo) shows its currencies from the start.
        rates = refresh_exchange_rates()
        self.stdout.write(
            self.style.SUCCESS(f"Exchange rates: {', '.join(rates.stored) or 'none'} from Roamify.")
        )
