"""The daily digest: one email per person per local day, listing what they haven't read."""

import datetime as dt
import zoneinfo

import time_machine
from django.core import mail
from django.test import override_settings

from notifications import delivery, services
from notifications.models import DigestRun, EmailMode, EmailState, Notification
from notifications.tests.kit import FLAKY, FlakyBackend, make
from outbox.models import OutboundEmail
from outbox.tasks import requeue_due_emails_task
from tests.base import LecternTestCase

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def berlin(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=BERLIN)


class DigestTests(LecternTestCase):
    def setUp(self) -> None:
        self.bob.timezone = "Europe/Berlin"
        self.bob.save(update_fields=["timezone"])
        services.save_preferences(
            user=self.bob,
            email_mode=EmailMode.DIGEST,
            quiet_hours_start=None,
            quiet_hours_end=None,
            digest_hour=8,
        )
        self.first = make(self.bob, title="New assignment: Sketch a tree")
        self.second = make(self.bob, title="Your grade for Still life is back")

    def test_it_sends_one_email_with_everything_unread(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            assert delivery.send_due_digests(at=berlin("2026-03-10T08:05")) == 1
        [message] = mail.outbox
        assert message.to == ["bob@example.com"]
        assert message.subject == "Your Lectern digest: 2 updates"
        assert "Sketch a tree" in message.body
        assert "Still life" in message.body
        assert f"/notifications/{self.first.pk}/" in message.body
        assert "Sketch a tree" in str(message.alternatives[0][0])  # type: ignore[attr-defined]
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        states = set(Notification.objects.values_list("email_state", flat=True))
        assert states == {EmailState.SENT}

    def test_it_sends_nothing_before_the_digest_hour(self) -> None:
        assert delivery.send_due_digests(at=berlin("2026-03-10T07:59")) == 0
        assert mail.outbox == []

    def test_it_sends_one_digest_a_day_however_often_it_runs(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            delivery.send_due_digests(at=berlin("2026-03-10T08:05"))
            make(self.bob, title="Due soon: Sketch a tree")
            delivery.send_due_digests(at=berlin("2026-03-10T09:05"))
            delivery.send_due_digests(at=berlin("2026-03-10T23:50"))
        assert len(mail.outbox) == 1
        # The next local day brings the next digest, with what came after the first.
        with self.captureOnCommitCallbacks(execute=True):
            assert delivery.send_due_digests(at=berlin("2026-03-11T08:00")) == 1
        assert len(mail.outbox) == 2
        assert "Due soon: Sketch a tree" in mail.outbox[1].body
        assert "Still life" not in mail.outbox[1].body
        assert DigestRun.objects.filter(user=self.bob).count() == 2

    def test_it_leaves_out_what_was_read(self) -> None:
        services.mark_read(notification=self.first)
        with self.captureOnCommitCallbacks(execute=True):
            delivery.send_due_digests(at=berlin("2026-03-10T08:05"))
        [message] = mail.outbox
        assert "Still life" in message.body
        assert "Sketch a tree" not in message.body

    def test_it_sends_nothing_when_everything_was_read(self) -> None:
        services.mark_all_read(user=self.bob)
        assert delivery.send_due_digests(at=berlin("2026-03-10T08:05")) == 0
        assert mail.outbox == []

    def test_it_waits_for_quiet_hours_to_end(self) -> None:
        services.save_preferences(
            user=self.bob,
            email_mode=EmailMode.DIGEST,
            quiet_hours_start=dt.time(22),
            quiet_hours_end=dt.time(9),
            digest_hour=8,
        )
        assert delivery.send_due_digests(at=berlin("2026-03-10T08:05")) == 0
        with self.captureOnCommitCallbacks(execute=True):
            assert delivery.send_due_digests(at=berlin("2026-03-10T09:00")) == 1
        assert len(mail.outbox) == 1


@override_settings(EMAIL_BACKEND=FLAKY)
class DigestFailureTests(LecternTestCase):
    def setUp(self) -> None:
        services.set_email_mode(user=self.bob, email_mode=EmailMode.DIGEST)
        make(self.bob, title="One")
        make(self.bob, title="Two")

    def tearDown(self) -> None:
        FlakyBackend.failures = 0

    def test_it_sends_the_days_digest_once_when_the_provider_recovers(self) -> None:
        FlakyBackend.failures = 1
        noon = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
        with time_machine.travel(noon, tick=False):
            with self.captureOnCommitCallbacks(execute=True):
                assert delivery.send_due_digests(at=noon) == 1
            assert mail.outbox == []
            # The day's digest is taken: the outbox has it, and later runs queue nothing more.
            assert DigestRun.objects.get().state == DigestRun.State.SENT
            with self.captureOnCommitCallbacks(execute=True):
                assert delivery.send_due_digests(at=noon + dt.timedelta(minutes=15)) == 0
        with time_machine.travel(noon + dt.timedelta(minutes=5), tick=False):
            requeue_due_emails_task.apply()
            requeue_due_emails_task.apply()
        [message] = mail.outbox
        assert "One" in message.body
        assert "Two" in message.body
        assert OutboundEmail.objects.get().state == OutboundEmail.State.SENT

    def test_it_takes_over_a_digest_whose_sender_died_without_a_second_email(self) -> None:
        noon = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
        with self.captureOnCommitCallbacks(execute=True):
            delivery.send_due_digests(at=noon)
        # As if the worker died after the hand-over, before the run was marked.
        DigestRun.objects.update(state=DigestRun.State.SENDING, claimed_at=noon)
        later = noon + delivery.STALE_AFTER + dt.timedelta(minutes=1)
        with self.captureOnCommitCallbacks(execute=True):
            delivery.send_due_digests(at=later)
        assert len(mail.outbox) == 1
