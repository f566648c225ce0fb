"""What the privacy registry does with notifications: export, erase, expire."""

import datetime as dt

from django.utils import timezone

from courses.tests.factories import CourseFactory
from notifications import services
from notifications.models import CourseMute, EmailMode, Kind, Notification, NotificationPreference
from privacy.registry import registry
from privacy.retention import sweep_rule
from tests.base import LecternTestCase


def entry(label: str):
    return registry.entries[label]


class PrivacyTests(LecternTestCase):
    def setUp(self) -> None:
        self.mine = Notification.objects.create(
            recipient=self.bob, kind=Kind.MESSAGE, title="For bob", dedupe_key="a", actor=self.dave
        )
        Notification.objects.create(
            recipient=self.dave, kind=Kind.MESSAGE, title="For dave", dedupe_key="a", actor=self.bob
        )
        services.set_email_mode(user=self.bob, email_mode=EmailMode.DIGEST)
        CourseMute.objects.create(user=self.bob, course=CourseFactory.create(teacher=self.alice))

    def test_it_registers_every_model(self) -> None:
        for label in [
            "notifications.Notification",
            "notifications.NotificationPreference",
            "notifications.CourseMute",
            "notifications.DigestRun",
        ]:
            assert label in registry.entries

    def test_it_exports_only_the_persons_own_notifications(self) -> None:
        rows = list(entry("notifications.Notification").exporter(self.bob))
        assert [r["title"] for r in rows] == ["For bob"]
        prefs = list(entry("notifications.NotificationPreference").exporter(self.bob))
        assert prefs[0]["email_mode"] == "digest"

    def test_it_erases_the_persons_rows(self) -> None:
        for label in registry.entries:
            if label.startswith("notifications."):
                entry(label).eraser(self.bob)
        assert not Notification.objects.filter(recipient=self.bob).exists()
        assert not NotificationPreference.objects.filter(user=self.bob).exists()
        assert not CourseMute.objects.filter(user=self.bob).exists()
        assert Notification.objects.filter(recipient=self.dave).exists()

    def test_it_expires_read_after_90_days_and_unread_after_12_months(self) -> None:
        now = timezone.now()
        old_read = Notification.objects.create(
            recipient=self.bob,
            kind=Kind.MESSAGE,
            title="x",
            dedupe_key="r",
            read_at=now - dt.timedelta(days=91),
        )
        recent_read = Notification.objects.create(
            recipient=self.bob,
            kind=Kind.MESSAGE,
            title="x",
            dedupe_key="rr",
            read_at=now - dt.timedelta(days=30),
        )
        old_unread = Notification.objects.create(
            recipient=self.bob,
            kind=Kind.MESSAGE,
            title="x",
            dedupe_key="u",
            created_at=now - dt.timedelta(days=366),
        )
        assert sweep_rule(entry("notifications.Notification")).rows == 2
        remaining = set(Notification.objects.values_list("pk", flat=True))
        assert old_read.pk not in remaining
        assert old_unread.pk not in remaining
        assert recent_read.pk in remaining
        assert self.mine.pk in remaining
