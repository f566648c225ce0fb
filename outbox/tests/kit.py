"""A mail service that is down, and a way to let the outbox's periodic job run later."""

import datetime as dt
from typing import Any

import time_machine
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.utils import timezone

from outbox.tasks import requeue_due_emails_task


class BrokenMailBackend(BaseEmailBackend):
    """Refuse every message, like an SMTP server or provider that can't be reached."""

    attempts = 0

    def send_messages(self, email_messages: Any) -> int:
        BrokenMailBackend.attempts += 1
        raise ConnectionRefusedError("The mail server refused the connection.")


def mail_down() -> override_settings:
    """Switch the mail backend to one that refuses everything, for a `with` block."""
    return override_settings(EMAIL_BACKEND="outbox.tests.kit.BrokenMailBackend")


def run_sweep_later(after: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Run the outbox's periodic job `after` from now, when the first back-offs have passed."""
    with time_machine.travel(timezone.now() + after, tick=False):
        return requeue_due_emails_task.apply().get()
