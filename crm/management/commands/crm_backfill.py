"""Create or refresh every teacher's contacts from their courses and leads."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import User
from courses.models import Course
from crm import services


class Command(BaseCommand):
    help = "Create contacts for existing enrolments, waitlist places and leads (safe to re-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--teacher", help="Only this teacher's email address.")

    def handle(self, *args: Any, **options: Any) -> None:
        teachers = Course.objects.values_list("teacher_id", flat=True).distinct().order_by()
        if options["teacher"]:
            teachers = teachers.filter(teacher__email__iexact=options["teacher"])
        created = 0
        ids = sorted(set(teachers))
        for teacher_id in ids:
            created += services.sync_people(teacher_id)
        self.stdout.write(f"{created} contacts created for {len(ids)} teachers.")
        if options["teacher"] and not ids:
            self.stderr.write(
                "No courses for that teacher."
                if User.objects.filter(email__iexact=options["teacher"]).exists()
                else "No such teacher."
            )
