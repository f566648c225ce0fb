"""The periodic job: nothing queued is lost, whatever happened to its task."""

import datetime as dt
import io
import tempfile
from pathlib import Path

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from config.celery import app
from core.testing import requires_redis
from outbox import delivery, services
from outbox.models import OutboundEmail
from outbox.tasks import deliver_email_task, requeue_due_emails_task
from outbox.tests.kit import message, run_sweep_later
from tests.base import LecternTestCase

State = OutboundEmail.State


def lost(key: str = "week-2:bob") -> OutboundEmail:
    """Queue an email whose task was lost: in a test nothing commits, so it never runs."""
    email = services.enqueue_email(key=key, message=message())
    assert email is not None
    return email


class SweepTests(LecternTestCase):
    def test_it_sends_an_email_whose_task_was_lost(self) -> None:
        lost()
        assert run_sweep_later(delivery.SWEEP_GRACE + dt.timedelta(seconds=1)) == 1
        assert len(mail.outbox) == 1
        assert OutboundEmail.objects.get().state == State.SENT

    def test_it_leaves_a_fresh_email_to_its_own_task(self) -> None:
        lost()
        assert requeue_due_emails_task.apply(throw=True).result == 0
        assert mail.outbox == []

    def test_it_takes_over_an_email_whose_worker_died(self) -> None:
        email = lost()
        OutboundEmail.objects.filter(pk=email.pk).update(
            state=State.SENDING, attempts=1, lease_until=timezone.now() + delivery.LEASE
        )
        assert run_sweep_later(dt.timedelta(minutes=5)) == 0
        assert run_sweep_later(delivery.LEASE + dt.timedelta(seconds=1)) == 1
        assert len(mail.outbox) == 1

    def test_it_leaves_sent_and_failed_emails_alone(self) -> None:
        OutboundEmail.objects.filter(pk=lost("a").pk).update(state=State.SENT)
        OutboundEmail.objects.filter(pk=lost("b").pk).update(state=State.FAILED)
        assert run_sweep_later(dt.timedelta(days=2)) == 0
        assert mail.outbox == []

    def test_it_sends_each_email_once_however_often_it_runs(self) -> None:
        for n in range(3):
            lost(f"k{n}")
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=False):
            assert requeue_due_emails_task.apply(throw=True).result == 3
            assert requeue_due_emails_task.apply(throw=True).result == 0
        assert len(mail.outbox) == 3


class ScheduleTests(LecternTestCase):
    def test_it_runs_every_minute_under_celery_beat(self) -> None:
        [entry] = [
            e for e in app.conf.beat_schedule.values()
            if e["task"] == requeue_due_emails_task.name
        ]  # fmt: skip
        assert entry["schedule"].remaining_estimate(timezone.now()) <= dt.timedelta(minutes=1)

    def test_it_runs_under_make_run_without_celery_beat(self) -> None:
        lost()
        state = Path(self.enterContext(tempfile.TemporaryDirectory())) / "periodic.json"
        out = io.StringIO()
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=False):
            call_command("run_periodic", "--once", "--state", str(state), stdout=out)
        assert "requeue-due-emails: ran" in out.getvalue()
        assert len(mail.outbox) == 1


# --- A real worker, through Redis ------------------------------------------------------------


@requires_redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("through_the_broker")
def test_it_delivers_through_a_real_worker() -> None:
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        email = services.enqueue_email(key="week-2:bob", message=message())
        assert email is not None
        result = deliver_email_task.apply_async((email.pk,), ignore_result=False)
        assert result.get(timeout=30) in (State.SENT, "skipped")
    email.refresh_from_db()
    assert email.state == State.SENT
    assert len(mail.outbox) == 1
