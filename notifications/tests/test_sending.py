"""Immediate emails: sent once however often the task runs, retried after a provider failure."""

import datetime as dt

import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from courses.tests.factories import CourseFactory
from notifications import delivery
from notifications.models import EmailState, Notification
from notifications.tasks import send_held_emails_task, send_notification_email_task
from notifications.tests.kit import FLAKY, FlakyBackend, make
from outbox.models import OutboundEmail
from outbox.tasks import requeue_due_emails_task
from tests.base import LecternTestCase


class SendTwiceTests(LecternTestCase):
    def setUp(self) -> None:
        # Created outside captureOnCommitCallbacks, so the on-commit send never ran.
        self.notification = make(self.bob, title="Week 2 is up", body="Read chapter 2.")

    def test_it_sends_once_when_the_task_runs_twice(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            send_notification_email_task.apply(args=(self.notification.pk,))
            send_notification_email_task.apply(args=(self.notification.pk,))
        assert len(mail.outbox) == 1
        self.notification.refresh_from_db()
        assert self.notification.email_state == EmailState.SENT
        assert self.notification.email_sent_at is not None

    def test_it_sends_once_when_the_periodic_job_also_runs(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            send_notification_email_task.apply(args=(self.notification.pk,))
            send_held_emails_task.apply()
            send_held_emails_task.apply()
        assert len(mail.outbox) == 1

    def test_it_leaves_a_row_another_worker_is_sending_alone(self) -> None:
        Notification.objects.filter(pk=self.notification.pk).update(
            email_state=EmailState.SENDING, email_claimed_at=timezone.now()
        )
        assert not delivery.send_notification_email(self.notification.pk)
        assert delivery.send_held_emails() == 0
        assert mail.outbox == []

    def test_it_sends_a_claim_abandoned_by_a_dead_worker_once(self) -> None:
        claimed = timezone.now() - delivery.STALE_AFTER - dt.timedelta(minutes=1)
        Notification.objects.filter(pk=self.notification.pk).update(
            email_state=EmailState.SENDING, email_claimed_at=claimed, email_attempts=1
        )
        with self.captureOnCommitCallbacks(execute=True):
            assert delivery.send_held_emails() == 1
            assert delivery.send_held_emails() == 0
        assert len(mail.outbox) == 1

    def test_it_queues_one_email_when_a_dead_worker_had_already_handed_it_over(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            delivery.send_notification_email(self.notification.pk)
        # The worker died after the hand-over but, as far as this row says, before marking it.
        claimed = timezone.now() - delivery.STALE_AFTER - dt.timedelta(minutes=1)
        Notification.objects.filter(pk=self.notification.pk).update(
            email_state=EmailState.SENDING, email_claimed_at=claimed
        )
        with self.captureOnCommitCallbacks(execute=True):
            assert delivery.send_held_emails() == 1
        assert len(mail.outbox) == 1
        assert OutboundEmail.objects.count() == 1

    def test_it_skips_one_read_before_it_went_out(self) -> None:
        from notifications import services

        services.mark_read(notification=self.notification)
        send_notification_email_task.apply(args=(self.notification.pk,))
        assert mail.outbox == []
        self.notification.refresh_from_db()
        assert self.notification.email_state == EmailState.NONE


@override_settings(EMAIL_BACKEND=FLAKY)
class ProviderFailureTests(LecternTestCase):
    def setUp(self) -> None:
        FlakyBackend.attempts = 0
        self.notification = make(self.bob)

    def tearDown(self) -> None:
        FlakyBackend.failures = 0

    def test_it_sends_exactly_once_when_the_provider_recovers(self) -> None:
        FlakyBackend.failures = 1
        with self.captureOnCommitCallbacks(execute=True):
            send_notification_email_task.apply(args=(self.notification.pk,))
        assert mail.outbox == []
        self.notification.refresh_from_db()
        # Handed to the outbox, which keeps it until the provider takes it.
        assert self.notification.email_state == EmailState.SENT
        email = OutboundEmail.objects.get()
        assert email.state == OutboundEmail.State.PENDING
        assert "ConnectionError" in email.last_error
        with self.captureOnCommitCallbacks(execute=True):
            send_notification_email_task.apply(args=(self.notification.pk,))
            send_held_emails_task.apply()
        with time_machine.travel(email.next_attempt_at + dt.timedelta(minutes=2)):
            requeue_due_emails_task.apply()
            requeue_due_emails_task.apply()
        assert len(mail.outbox) == 1
        assert FlakyBackend.attempts == 2


class EmailContentTests(LecternTestCase):
    def test_it_sends_subject_text_and_html_with_one_click_unsubscribe(self) -> None:
        course = CourseFactory.create(teacher=self.alice, title="Watercolour")
        notification = make(
            self.bob,
            title="New announcement in Watercolour: Week 2",
            body="Bring your brushes.",
            course=course,
            actor=self.alice,
        )
        with self.captureOnCommitCallbacks(execute=True):
            delivery.send_notification_email(notification.pk)
        [message] = mail.outbox
        assert message.subject == "New announcement in Watercolour: Week 2"
        assert message.to == ["bob@example.com"]
        assert "Bring your brushes." in message.body
        assert f"/notifications/{notification.pk}/" in message.body
        html = str(message.alternatives[0][0])  # type: ignore[attr-defined]
        assert "Read the announcement" in html
        assert "Mute this course" in html
        unsubscribe = message.extra_headers["List-Unsubscribe"]
        assert unsubscribe.startswith("<http")
        assert "/notifications/unsubscribe/" in unsubscribe
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.extra_headers["Message-ID"].startswith(f"<notification-{notification.pk}@")
        assert "Message-ID: <notification-" in message.message().as_string()
