"""A mail service that is down, a broker that is down, and the periodic job run later."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import time_machine
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.utils import timezone

from config.celery import app
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
        queued = requeue_due_emails_task.apply(throw=True).result
    assert isinstance(queued, int)
    return queued


@contextmanager
def broker_down() -> Iterator[None]:
    """Send tasks to a broker nobody listens on, as when Redis is down; inline again after."""
    names = (
        "task_always_eager",
        "broker_url",
        "task_publish_retry",
        "broker_connection_timeout",
        "broker_connection_retry",
        "broker_transport_options",
    )
    saved = {name: app.conf[name] for name in names}
    app.conf.update(
        task_always_eager=False,
        broker_url="redis://127.0.0.1:9/0",
        task_publish_retry=False,
        broker_connection_timeout=0.5,
        broker_connection_retry=False,
        broker_transport_options={"max_retries": 0},
    )
    _forget_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections()


def _forget_connections() -> None:
    # The connection and producer pools remember the broker they were made for.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


def message(
    to: str = "bob@example.com",
    subject: str = "Week 2 is up",
    body: str = "Read chapter 2.",
    **extra: Any,
) -> EmailMultiAlternatives:
    """Return a rendered email with a text and an HTML body, as a sender would hand it over."""
    email = EmailMultiAlternatives(subject=subject, body=body, to=[to], **extra)
    email.attach_alternative("<p>Read <b>chapter 2</b>.</p>", "text/html")
    return email
