"""Delivering one email: the claim, its lease, the back-off and giving up."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import override_settings
from django.utils import timezone

from outbox import delivery, services
from outbox.models import OutboundEmail
from outbox.tasks import deliver_email_task
from outbox.tests.kit import BrokenMailBackend, mail_down, message
from tests.base import LecternTestCase

State = OutboundEmail.State


def queued(key: str = "week-2:bob") -> OutboundEmail:
    """Queue an email whose task never ran (no commit in a test)."""
    email = services.enqueue_email(key=key, message=message())
    assert email is not None
    return email


class ClaimTests(LecternTestCase):
    def test_it_sends_once_however_often_the_task_runs(self) -> None:
        email = queued()
        assert deliver_email_task.apply(args=(email.pk,)).get() == State.SENT
        assert deliver_email_task.apply(args=(email.pk,)).get() == "skipped"
        assert len(mail.outbox) == 1

    def test_it_leaves_an_email_another_worker_holds_alone(self) -> None:
        email = queued()
        OutboundEmail.objects.filter(pk=email.pk).update(
            state=State.SENDING, lease_until=timezone.now() + dt.timedelta(minutes=5)
        )
        assert delivery.deliver_email(email.pk) == delivery.SKIPPED
        assert mail.outbox == []

    def test_it_takes_over_an_email_whose_worker_died(self) -> None:
        email = queued()
        OutboundEmail.objects.filter(pk=email.pk).update(
            state=State.SENDING, attempts=1, lease_until=timezone.now() - dt.timedelta(seconds=1)
        )
        assert delivery.deliver_email(email.pk).state == State.SENT
        email.refresh_from_db()
        assert email.attempts == 2
        assert len(mail.outbox) == 1

    def test_a_worker_whose_claim_was_taken_over_records_nothing(self) -> None:
        email = queued()
        # The first worker's send hangs past its lease; another worker takes the email over
        # and sends it; then the first worker's send fails after all.
        SlowThenBrokenBackend.email_id = email.pk
        with override_settings(EMAIL_BACKEND="outbox.tests.test_delivery.SlowThenBrokenBackend"):
            outcome = delivery.deliver_email(email.pk)
        assert outcome.state == State.PENDING  # what the first worker thought
        email.refresh_from_db()
        assert email.state == State.SENT  # what the newer claim recorded stays
        assert email.attempts == 2
        assert email.last_error == ""
        assert len(mail.outbox) == 1


class SlowThenBrokenBackend(LocmemBackend):
    """On its first use, let another worker deliver the email past the lease, then fail."""

    email_id = 0
    calls = 0

    def send_messages(self, email_messages: Any) -> int:
        SlowThenBrokenBackend.calls += 1
        if SlowThenBrokenBackend.calls > 1:
            return super().send_messages(email_messages)
        later = timezone.now() + delivery.LEASE + dt.timedelta(minutes=1)
        with time_machine.travel(later, tick=False):
            delivery.deliver_email(SlowThenBrokenBackend.email_id)
        raise TimeoutError("The mail server stopped answering.")


class RetryTests(LecternTestCase):
    def setUp(self) -> None:
        BrokenMailBackend.attempts = 0
        self.start = timezone.now()

    def fail_once(self, email: OutboundEmail) -> OutboundEmail:
        with mail_down():
            delivery.deliver_email(email.pk)
        email.refresh_from_db()
        return email

    def test_it_waits_longer_after_each_failure_up_to_a_limit(self) -> None:
        email = queued()
        waits = []
        with time_machine.travel(self.start, tick=False) as clock, self.assertLogs("outbox"):
            for _ in range(10):
                email = self.fail_once(email)
                waits.append(email.next_attempt_at - timezone.now())
                clock.move_to(email.next_attempt_at)
        minutes = [wait / dt.timedelta(minutes=1) for wait in waits]
        assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 180, 180]
        assert email.state == State.PENDING
        assert email.attempts == 10

    def test_it_does_not_send_before_the_back_off_has_passed(self) -> None:
        with time_machine.travel(self.start, tick=False) as clock, self.assertLogs("outbox"):
            email = self.fail_once(queued())
            clock.move_to(email.next_attempt_at - dt.timedelta(seconds=30))
            assert delivery.deliver_email(email.pk) == delivery.SKIPPED
            clock.move_to(email.next_attempt_at)
            assert delivery.deliver_email(email.pk).state == State.SENT
        assert len(mail.outbox) == 1

    def test_it_gives_up_after_the_last_attempt(self) -> None:
        email = queued()
        with time_machine.travel(self.start, tick=False) as clock, self.assertLogs("outbox"):
            for _ in range(delivery.MAX_ATTEMPTS):
                email = self.fail_once(email)
                clock.move_to(email.next_attempt_at)
            assert email.state == State.FAILED
            assert email.finished_at == timezone.now()
            assert "ConnectionRefusedError" in email.last_error
            clock.shift(dt.timedelta(days=1))
            assert delivery.deliver_email(email.pk) == delivery.SKIPPED
            assert delivery.due_email_ids() == []
        assert BrokenMailBackend.attempts == delivery.MAX_ATTEMPTS
        assert mail.outbox == []

    def test_it_gives_up_on_an_email_a_day_old(self) -> None:
        with time_machine.travel(self.start, tick=False):
            email = queued()
        with (
            time_machine.travel(self.start + delivery.GIVE_UP_AFTER, tick=False),
            self.assertLogs("outbox.delivery", "ERROR"),
        ):
            email = self.fail_once(email)
        assert email.state == State.FAILED
        assert email.attempts == 1

    def test_the_task_asks_the_broker_to_retry_when_one_is_there(self) -> None:
        email = queued()
        # Called as a worker would (not inline), a failure becomes a Celery retry.
        with mail_down(), self.assertLogs("outbox"), pytest.raises(Retry):
            deliver_email_task(email.pk)
        email.refresh_from_db()
        assert email.state == State.PENDING

    def test_the_task_leaves_a_long_back_off_to_the_periodic_job(self) -> None:
        email = queued()
        OutboundEmail.objects.filter(pk=email.pk).update(attempts=5)
        with mail_down(), self.assertLogs("outbox"):
            assert deliver_email_task(email.pk) == State.PENDING
        email.refresh_from_db()
        assert email.next_attempt_at - timezone.now() > dt.timedelta(minutes=30)

    def test_the_task_never_raises_inline(self) -> None:
        email = queued()
        with mail_down(), self.assertLogs("outbox"):
            result = deliver_email_task.apply(args=(email.pk,))
        assert result.successful()
        assert result.get() == State.PENDING
