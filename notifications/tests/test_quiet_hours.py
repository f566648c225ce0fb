"""Quiet hours: computed in the person's time zone; emails due inside them wait until they end."""

import datetime as dt
import zoneinfo

from django.core import mail
from django.utils import timezone

from notifications import delivery, services
from notifications.models import EmailMode, EmailState, NotificationPreference
from notifications.tests.kit import make, quiet_around
from tests.base import LecternTestCase

LONDON = zoneinfo.ZoneInfo("Europe/London")


def pref(start: str, end: str) -> NotificationPreference:
    return NotificationPreference(
        quiet_hours_start=dt.time.fromisoformat(start), quiet_hours_end=dt.time.fromisoformat(end)
    )


def at(local: str, tz: dt.tzinfo = LONDON) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=tz)


def test_it_ends_overnight_quiet_hours_the_next_morning() -> None:
    until = pref("22:00", "07:00").quiet_until(at("2026-03-10T23:30"), LONDON)
    assert until == at("2026-03-11T07:00")


def test_it_ends_them_the_same_morning_after_midnight() -> None:
    until = pref("22:00", "07:00").quiet_until(at("2026-03-10T03:00"), LONDON)
    assert until == at("2026-03-10T07:00")


def test_it_is_not_quiet_outside_them() -> None:
    quiet = pref("22:00", "07:00")
    assert quiet.quiet_until(at("2026-03-10T07:00"), LONDON) is None
    assert quiet.quiet_until(at("2026-03-10T12:00"), LONDON) is None


def test_it_handles_daytime_quiet_hours() -> None:
    quiet = pref("09:00", "17:00")
    assert quiet.quiet_until(at("2026-03-10T12:00"), LONDON) == at("2026-03-10T17:00")
    assert quiet.quiet_until(at("2026-03-10T18:00"), LONDON) is None


def test_it_reads_the_clock_in_the_persons_time_zone() -> None:
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    # 15:00 UTC is midnight in Tokyo: inside Tokyo's 22:00-07:00, outside London's.
    noon_utc = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
    quiet = pref("22:00", "07:00")
    assert quiet.quiet_until(noon_utc, tokyo) == at("2026-03-11T07:00", tokyo)
    assert quiet.quiet_until(noon_utc, LONDON) is None


def test_it_has_none_without_both_ends() -> None:
    quiet = NotificationPreference(quiet_hours_start=dt.time(22))
    assert quiet.quiet_until(at("2026-03-10T23:00"), LONDON) is None


class HeldEmailTests(LecternTestCase):
    def setUp(self) -> None:
        self.bob.timezone = "America/New_York"
        self.bob.save(update_fields=["timezone"])
        start, end = quiet_around(timezone.now(), services.user_zone(self.bob))
        services.save_preferences(
            user=self.bob,
            email_mode=EmailMode.IMMEDIATE,
            quiet_hours_start=start,
            quiet_hours_end=end,
            digest_hour=8,
        )

    def test_it_sends_a_held_email_when_quiet_hours_end(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            notification = make(self.bob)
        assert mail.outbox == []
        assert delivery.send_held_emails() == 0
        assert notification.email_not_before is not None
        after = notification.email_not_before + dt.timedelta(minutes=1)
        with self.captureOnCommitCallbacks(execute=True):
            assert delivery.send_held_emails(at=after) == 1
            assert delivery.send_held_emails(at=after) == 0
        assert len(mail.outbox) == 1

    def test_it_holds_an_email_queued_before_quiet_hours_began(self) -> None:
        notification = make(self.bob)  # held: created inside quiet hours
        from notifications.models import Notification

        Notification.objects.filter(pk=notification.pk).update(email_not_before=None)
        assert not delivery.send_notification_email(notification.pk)
        notification.refresh_from_db()
        assert notification.email_state == EmailState.PENDING
        assert notification.email_not_before is not None
        assert notification.email_not_before > timezone.now()
        assert notification.email_attempts == 0
        assert mail.outbox == []

    def test_it_drops_a_held_email_once_the_notification_is_read(self) -> None:
        notification = make(self.bob)
        services.mark_read(notification=notification)
        later = timezone.now() + dt.timedelta(hours=3)
        assert delivery.send_held_emails(at=later) == 0
        assert mail.outbox == []
