"""The mail server down for an hour, the outbox's periodic job running every minute.

Time is moved minute by minute (time-machine) and the job runs at each step,
as Celery beat would run it. Nothing is lost: every email is still waiting
when the server comes back and is sent once soon after. An email the server
refuses for the whole retry schedule is not dropped: it stays in the admin as
failed, with the error, and staff can send it again.
"""

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications import services as notifications
from notifications.models import Kind
from outbox import delivery
from outbox import services as outbox
from outbox.models import OutboundEmail
from outbox.tasks import requeue_due_emails_task
from outbox.tests.kit import BrokenMailBackend, mail_down, message

pytestmark = pytest.mark.django_db

State = OutboundEmail.State
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
CHANGELIST = reverse("admin:outbox_outboundemail_changelist")


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def sweep_every_minute(clock: time_machine.Traveller, span: dt.timedelta) -> None:
    """Run the periodic job once a minute for `span`, as beat does."""
    for _ in range(int(span / MINUTE)):
        clock.shift(MINUTE)
        requeue_due_emails_task.apply(throw=True)


def queue_emails(bob: User, carol: User, capture: object) -> list[OutboundEmail]:
    """Queue a few emails the way the app does: sent at once, refused, left waiting."""
    with capture(execute=True):  # type: ignore[operator]
        for n, person in enumerate([bob, carol, bob]):
            outbox.enqueue_email(
                key=f"lesson:{n}", message=message(to=person.email, subject=f"Lesson {n}")
            )
        notifications.notify(
            recipient=carol, kind=Kind.GRADE_RETURNED, title="Your essay was graded", dedupe_key="g"
        )
    return list(OutboundEmail.objects.order_by("pk"))


def test_an_hour_without_mail_loses_nothing_and_sends_each_email_once(
    bob: User,
    carol: User,
    clock: time_machine.Traveller,
    django_capture_on_commit_callbacks: object,
) -> None:
    BrokenMailBackend.attempts = 0
    with mail_down():
        queued = queue_emails(bob, carol, django_capture_on_commit_callbacks)
        assert len(queued) == 4
        sweep_every_minute(clock, HOUR)
        # Tried again and again through the hour, all still waiting, none given up.
        assert BrokenMailBackend.attempts >= 4 * 6
        assert set(OutboundEmail.objects.values_list("state", flat=True)) == {State.PENDING}
        assert min(OutboundEmail.objects.values_list("attempts", flat=True)) >= 6
        assert mail.outbox == []

    recovered_at = timezone.now()
    # The longest back-off reached in an hour is the next one: about an hour more at most.
    sweep_every_minute(clock, delivery.backoff(7) + 2 * MINUTE)
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {State.SENT}
    assert len(mail.outbox) == len(queued)
    ids = [sent.extra_headers["Message-ID"] for sent in mail.outbox]
    assert len(set(ids)) == len(ids), "an email was sent twice"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(e.to_email for e in queued)
    assert any(m.subject.endswith("Your essay was graded") for m in mail.outbox)
    last = max(e.finished_at for e in OutboundEmail.objects.all() if e.finished_at)
    assert last - recovered_at <= delivery.backoff(7) + 2 * MINUTE

    sweep_every_minute(clock, HOUR)  # and later runs send nothing more
    assert len(mail.outbox) == len(queued)


def test_an_email_refused_for_the_whole_schedule_waits_for_staff_as_failed(
    bob: User,
    staff: User,
    client: Client,
    clock: time_machine.Traveller,
    django_capture_on_commit_callbacks: object,
) -> None:
    with mail_down():
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            outbox.enqueue_email(key="reset:1", message=message(subject="Reset your password"))
        sweep_every_minute(clock, 15 * HOUR)
    email = OutboundEmail.objects.get()
    assert email.state == State.FAILED
    assert email.attempts == delivery.MAX_ATTEMPTS
    assert "ConnectionRefusedError" in email.last_error
    assert mail.outbox == []
    sweep_every_minute(clock, HOUR)  # the job leaves a failed email alone
    assert OutboundEmail.objects.get().attempts == delivery.MAX_ATTEMPTS

    client.force_login(staff)
    page = client.get(CHANGELIST, {"state__exact": State.FAILED})
    assert page.status_code == 200
    assert "bob@example.com" in page.text
    assert "Failed, gave up" in page.text
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        client.post(CHANGELIST, {"action": "retry_now", "_selected_action": [email.pk]})
    assert OutboundEmail.objects.get().state == State.SENT
    assert len(mail.outbox) == 1
