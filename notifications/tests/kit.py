"""Helpers for notification tests: a flaky mail backend and quick ways to make rows."""

import datetime as dt
import itertools
from typing import Any

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from notifications.models import Kind, Notification
from notifications.services import notify

_keys = itertools.count()


class FlakyBackend(LocmemBackend):
    """The locmem outbox, refusing the next `FlakyBackend.failures` sends like a provider outage."""

    failures = 0
    attempts = 0

    def send_messages(self, email_messages: Any) -> int:
        FlakyBackend.attempts += 1
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise ConnectionError("The mail provider is unreachable.")
        return super().send_messages(email_messages)


FLAKY = "notifications.tests.kit.FlakyBackend"


def make(recipient: Any, **fields: Any) -> Notification:
    """Create a notification through notify() with a fresh key; fail if nothing was created."""
    fields.setdefault("kind", Kind.ANNOUNCEMENT)
    fields.setdefault("title", "Something happened")
    fields.setdefault("dedupe_key", f"test:{next(_keys)}")
    notification = notify(recipient=recipient, **fields)
    assert notification is not None
    return notification


def quiet_around(at: dt.datetime, tz: dt.tzinfo, hours: int = 1) -> tuple[dt.time, dt.time]:
    """Return quiet hours from `hours` before to `hours` after `at`, as wall times in `tz`."""
    local = at.astimezone(tz)
    start = (local - dt.timedelta(hours=hours)).time().replace(second=0, microsecond=0)
    end = (local + dt.timedelta(hours=hours)).time().replace(second=0, microsecond=0)
    return start, end
