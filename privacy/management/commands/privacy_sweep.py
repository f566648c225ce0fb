"""Run the registry's retention rules now, or show what they would remove."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from privacy import retention
from privacy.registry import registry

# Rules without a sweep are kept while the account exists, or expire on their own
# (cache entries): nothing for this command to do.
_NOT_SWEPT = "    no sweep: kept while the account exists, or expires on its own"


class Command(BaseCommand):
    help = (
        "Apply every retention rule of the privacy registry, in batches. "
        "With --dry-run, count what each rule would remove and change nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the rows each rule would act on, without touching them.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=retention.BATCH_SIZE,
            help=f"Rows per batch transaction (default {retention.BATCH_SIZE}).",
        )

    def handle(self, *args: Any, dry_run: bool, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            self.stderr.write("--batch-size must be at least 1.")
            raise SystemExit(2)
        if dry_run:
            self._dry_run()
        else:
            self._sweep(batch_size)

    def _dry_run(self) -> None:
        total = 0
        for entry in registry.retention_rules():
            self._rule_heading(entry.label, entry.retention.description)
            if not entry.retention.swept:
                self.stdout.write(_NOT_SWEPT)
                continue
            try:
                count = retention.expired_count(entry)
            except Exception as error:
                self.stdout.write(self.style.ERROR(f"    could not count: {error}"))
                continue
            total += count
            self.stdout.write(f"    would remove: {count} row{'s' if count != 1 else ''}")
        self.stdout.write(self.style.SUCCESS(f"Dry run: {total} rows would be removed."))

    def _sweep(self, batch_size: int) -> None:
        outcomes = {o.label: o for o in retention.sweep_each(batch_size=batch_size)}
        total, failed = 0, 0
        for entry in registry.retention_rules():
            self._rule_heading(entry.label, entry.retention.description)
            outcome = outcomes.get(entry.label)
            if outcome is None:
                self.stdout.write(_NOT_SWEPT)
                continue
            total += outcome.rows
            line = (
                f"    removed: {outcome.rows} row{'s' if outcome.rows != 1 else ''} "
                f"in {outcome.batches} batch{'es' if outcome.batches != 1 else ''}, "
                f"slowest batch {outcome.slowest_batch_ms} ms"
            )
            if outcome.failed:
                failed += 1
                self.stdout.write(self.style.ERROR(f"{line} — FAILED: {outcome.error}"))
            else:
                self.stdout.write(line)
        summary = f"Swept {total} rows."
        if failed:
            self.stdout.write(self.style.ERROR(f"{summary} {failed} rule(s) failed."))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(summary))

    def _rule_heading(self, label: str, description: str) -> None:
        self.stdout.write(f"{label}: {description}")
