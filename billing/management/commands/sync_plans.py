"""Create the Stripe Products and Prices of the plan catalogue."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing import client
from billing.services import catalogue


class Command(BaseCommand):
    help = (
        "Give each paid plan a Stripe Product and each of its prices a Stripe Price, replacing a "
        "Price whose amount was changed in the admin. Safe to run at any time: what exists "
        "already is left as it is."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not client.configured():
            raise CommandError("Payments are off: set STRIPE_SECRET_KEY first.")
        try:
            report = catalogue.sync_plans()
        except client.PaymentServiceError as error:
            raise CommandError(f"Stripe refused: {error.message} Run the command again.") from error
        for line in report.lines:
            self.stdout.write(line)
        summary = "The plans are in sync with Stripe." if report else "Nothing to change."
        self.stdout.write(self.style.SUCCESS(summary))
