from django.core.management.base import BaseCommand

from core import demo


class Command(BaseCommand):
    help = "Create the demo accounts, courses and conversations (safe to run again)."

    def handle(self, *args: object, **options: object) -> None:
        for line in demo.seed_all():
            self.stdout.write(line)
