"""notify(): one notification per (recipient, key), following mutes and email choices."""

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from courses.tests.factories import CourseFactory
from notifications import services
from notifications.models import CourseMute, EmailMode, EmailState, Kind, Notification
from notifications.services import notify, user_zone
from notifications.tests.kit import quiet_around
from tests.base import LecternTestCase


class NotifyTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice)

    def call(self, **fields):
        fields = {
            "recipient": self.bob,
            "kind": Kind.ANNOUNCEMENT,
            "title": "Week 2 is up",
            "dedupe_key": "item:1",
            "course": self.course,
            **fields,
        }
        with self.captureOnCommitCallbacks(execute=True):
            return notify(**fields)

    def test_it_creates_a_notification_and_emails_it_once_committed(self) -> None:
        notification = self.call(body="Read chapter 2.", url="/courses/x/", actor=self.alice)
        assert notification is not None
        assert (notification.recipient, notification.title, notification.actor) == (
            self.bob,
            "Week 2 is up",
            self.alice,
        )
        notification.refresh_from_db()
        assert notification.email_state == EmailState.SENT
        assert [m.to for m in mail.outbox] == [["bob@example.com"]]

    def test_it_creates_nothing_for_a_key_used_before(self) -> None:
        assert self.call() is not None
        assert self.call(title="Again") is None
        assert Notification.objects.count() == 1
        assert len(mail.outbox) == 1

    def test_it_uses_keys_per_recipient(self) -> None:
        assert self.call() is not None
        assert self.call(recipient=self.dave) is not None

    def test_it_skips_a_muted_course(self) -> None:
        CourseMute.objects.create(user=self.bob, course=self.course)
        assert self.call() is None
        assert mail.outbox == []

    def test_it_still_shows_your_own_grade_from_a_muted_course_without_email(self) -> None:
        CourseMute.objects.create(user=self.bob, course=self.course)
        notification = self.call(kind=Kind.GRADE_RETURNED)
        assert notification is not None
        assert notification.email_state == EmailState.NONE
        assert mail.outbox == []

    def test_it_sends_no_email_when_email_is_off(self) -> None:
        services.set_email_mode(user=self.bob, email_mode=EmailMode.OFF)
        notification = self.call()
        assert notification.email_state == EmailState.NONE
        assert mail.outbox == []

    def test_it_keeps_the_email_for_the_digest(self) -> None:
        services.set_email_mode(user=self.bob, email_mode=EmailMode.DIGEST)
        notification = self.call()
        assert notification.email_state == EmailState.DIGEST
        assert mail.outbox == []

    def test_it_holds_the_email_inside_quiet_hours(self) -> None:
        self.bob.timezone = "Asia/Tokyo"
        self.bob.save(update_fields=["timezone"])
        start, end = quiet_around(timezone.now(), user_zone(self.bob))
        services.save_preferences(
            user=self.bob,
            email_mode=EmailMode.IMMEDIATE,
            quiet_hours_start=start,
            quiet_hours_end=end,
            digest_hour=8,
        )
        notification = self.call()
        assert notification.email_state == EmailState.PENDING
        assert notification.email_not_before > timezone.now()
        assert mail.outbox == []

    def test_it_keeps_it_in_the_app_when_asked_to(self) -> None:
        notification = self.call(email=False)
        assert notification.email_state == EmailState.NONE
        assert mail.outbox == []

    def test_it_skips_an_inactive_account(self) -> None:
        self.bob.is_active = False
        self.bob.save(update_fields=["is_active"])
        assert self.call() is None

    def test_it_refuses_an_unknown_kind_or_a_missing_key(self) -> None:
        with pytest.raises(ValueError, match="Unknown notification kind"):
            self.call(kind="party")
        with pytest.raises(ValueError, match="dedupe_key"):
            self.call(dedupe_key="")

    def test_it_creates_nothing_when_the_transaction_rolls_back(self) -> None:
        def notify_then_fail() -> None:
            with transaction.atomic():
                notify(recipient=self.bob, kind=Kind.MESSAGE, title="Hi", dedupe_key="m:1")
                raise RuntimeError("rolled back")

        with self.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError):
            notify_then_fail()
        assert Notification.objects.count() == 0
        assert mail.outbox == []
