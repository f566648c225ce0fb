"""Recompute the sales totals (GMV) from the purchases: every teacher's, or one's."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.services import gmv


class Command(BaseCommand):
    help = (
        "Recompute the monthly sales totals of the last 24 months and the yearly totals before "
        "them from the purchases, replacing what is stored. Safe to run at any time: it gives "
        "the numbers that purchase and refund processing keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--teacher", type=int, metavar="ID", help="Only this teacher's totals (a user id)."
        )

    def handle(self, *args: Any, teacher: int | None, **options: Any) -> None:
        if teacher is not None and not get_user_model().objects.filter(pk=teacher).exists():
            raise CommandError(f"No user with id {teacher}.")
        months, years = gmv.rebuild(teacher_id=teacher)
        whose = f"teacher {teacher}" if teacher is not None else "every teacher"
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt the sales totals of {whose}: {months} month row"
                f"{'s' if months != 1 else ''} from {gmv.horizon():%B %Y} on, {years} year row"
                f"{'s' if years != 1 else ''} before it."
            )
        )
