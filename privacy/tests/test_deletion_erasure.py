"""Erasing an account after the cooling-off: steps, resuming, students told, one receipt."""

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from unittest import mock

from django.core import mail
from django.utils import timezone

from accounts.models import User
from courses.models import Course, Enrollment, WaitlistEntry
from courses.tests.factories import CourseFactory
from notifications.models import Notification
from privacy import deletion
from privacy.models import DeletionRequest
from privacy.registry import registry
from privacy.tasks import sweep_retention_task
from tests.base import LecternTestCase

State = DeletionRequest.State


class ErasureTestCase(LecternTestCase):
    def schedule(self, user: User) -> DeletionRequest:
        with self.captureOnCommitCallbacks(execute=True):
            request = deletion.request_deletion(user=user)
        mail.outbox.clear()
        return request

    def make_due(self, request: DeletionRequest) -> None:
        DeletionRequest.objects.filter(pk=request.pk).update(
            erase_after=timezone.now() - timedelta(seconds=1)
        )

    def sweep(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            sweep_retention_task.delay()


class ErasureTests(ErasureTestCase):
    def test_it_waits_for_the_cooling_off(self) -> None:
        request = self.schedule(self.bob)
        self.sweep()
        request.refresh_from_db()
        assert request.state == State.PENDING
        assert User.objects.filter(pk=self.bob.pk).exists()

    def test_it_erases_and_sends_one_receipt(self) -> None:
        request = self.schedule(self.bob)
        self.make_due(request)
        self.sweep()
        request.refresh_from_db()
        assert request.state == State.COMPLETED
        assert request.completed_at is not None
        assert (request.email, request.first_name, request.user) == ("", "", None)
        assert not User.objects.filter(pk=self.bob.pk).exists()
        labels = {e.label for e in deletion.erasure_order()}
        assert set(request.steps) == labels
        assert "privacy.DeletionRequest" not in request.steps
        assert len(mail.outbox) == 1
        receipt = mail.outbox[0]
        assert receipt.to == ["bob@example.com"]
        assert "Your account has been deleted" in receipt.subject
        assert "Account and profile: 1 record" in receipt.body
        assert "Policy acceptances" in receipt.body
        assert request.kept[0]["category"] == "Policy acceptances"
        self.sweep()
        deletion.erase(request.pk)
        assert len(mail.outbox) == 1

    def test_it_runs_the_users_own_entry_last(self) -> None:
        order = [e.label for e in deletion.erasure_order()]
        assert order[-1] == "accounts.User"
        assert "privacy.DeletionRequest" not in order
        assert len(order) == len(registry.entries) - 1

    def test_it_does_nothing_for_a_cancelled_request(self) -> None:
        request = self.schedule(self.bob)
        deletion.cancel(request)
        self.make_due(request)
        deletion.erase(request.pk)
        request.refresh_from_db()
        assert request.state == State.CANCELLED
        assert User.objects.get(pk=self.bob.pk).is_active

    def test_it_resumes_after_a_failing_step_without_repeating_steps(self) -> None:
        request = self.schedule(self.bob)
        self.make_due(request)
        entry = registry.entries["notifications.Notification"]
        calls: list[str] = []
        real = {e.label: e.eraser for e in deletion.erasure_order()}

        def counting(label: str) -> Callable[[User], int]:
            def run(user: User) -> int:
                calls.append(label)
                if label == entry.label and calls.count(label) == 1:
                    raise RuntimeError("storage is down")
                return real[label](user)

            return run

        # Entries are frozen: swap in copies whose erasers count their calls.
        swapped = {
            label: replace(e, eraser=counting(label)) for label, e in registry.entries.items()
        }
        with mock.patch.dict(registry.entries, swapped):
            deletion.erase(request.pk)
            request.refresh_from_db()
            assert request.state == State.FAILED
            assert "storage is down" in request.error
            assert entry.label not in request.steps
            done_before = set(request.steps)
            assert User.objects.filter(pk=self.bob.pk).exists()
            assert not mail.outbox

            # Not due again until its heartbeat is old: then the sweep resumes it.
            self.sweep()
            request.refresh_from_db()
            assert request.state == State.FAILED
            DeletionRequest.objects.filter(pk=request.pk).update(
                heartbeat_at=timezone.now() - deletion.STALE_AFTER - timedelta(seconds=1)
            )
            self.sweep()
        request.refresh_from_db()
        assert request.state == State.COMPLETED
        assert request.attempts == 2
        for label in done_before:
            assert calls.count(label) == 1, label
        assert calls.count(entry.label) == 2
        assert len(mail.outbox) == 1

    def test_it_leaves_a_live_erasure_alone(self) -> None:
        request = self.schedule(self.bob)
        DeletionRequest.objects.filter(pk=request.pk).update(
            state=State.ERASING, heartbeat_at=timezone.now(), steps={}
        )
        assert not deletion.due_deletions().filter(pk=request.pk).exists()
        deletion.erase(request.pk)
        request.refresh_from_db()
        assert request.state == State.ERASING
        assert User.objects.filter(pk=self.bob.pk).exists()


class TeacherErasureTests(ErasureTestCase):
    def test_it_deletes_the_courses_and_tells_the_students(self) -> None:
        course = CourseFactory.create(teacher=self.alice, title="Pottery for beginners")
        full = CourseFactory.create(teacher=self.alice, title="Advanced glazes")
        Enrollment.objects.create(course=course, student=self.bob)
        WaitlistEntry.objects.create(course=full, student=self.dave)
        request = self.schedule(self.alice)
        self.make_due(request)
        self.sweep()
        request.refresh_from_db()
        assert request.state == State.COMPLETED
        assert request.steps["courses.Course"] == 2
        assert not Course.objects.filter(pk__in=[course.pk, full.pk]).exists()
        told = Notification.objects.get(recipient=self.bob)
        assert told.title == "Pottery for beginners has closed"
        assert "Alice" not in told.title + told.body
        assert Notification.objects.get(recipient=self.dave).title == "Advanced glazes has closed"
        recipients = sorted(to for m in mail.outbox for to in m.to)
        assert "alice@example.com" in recipients
        assert "bob@example.com" in recipients

    def test_it_unnames_the_person_in_notifications_others_received(self) -> None:
        Notification.objects.create(
            recipient=self.bob,
            kind="message",
            title="Alice Archer sent you a message",
            body="From Alice Archer: hello",
            actor=self.alice,
            dedupe_key="m1",
        )
        request = self.schedule(self.alice)
        self.make_due(request)
        self.sweep()
        note = Notification.objects.get(recipient=self.bob, dedupe_key="m1")
        assert note.title == "Deleted user sent you a message"
        assert note.body == "From Deleted user: hello"
        assert note.actor is None
