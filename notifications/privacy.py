"""What notifications hold about people.

A notification belongs to its recipient. It is deleted 90 days after it was
read, or 12 months after it was created if it never was; a deleted course or
account takes its notifications with it. The person who caused a notification
(`actor`) is a link that is cleared when their account goes; the title may
still name them until the notification expires as above.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from notifications.models import CourseMute, DigestRun, Notification, NotificationPreference
from privacy.registry import Retention, register

READ_KEEP = timedelta(days=90)
UNREAD_KEEP = timedelta(days=365)
DIGEST_KEEP = timedelta(days=90)


def _sweep_notifications() -> int:
    now = timezone.now()
    deleted, _ = Notification.objects.filter(
        Q(read_at__lt=now - READ_KEEP) | Q(created_at__lt=now - UNREAD_KEEP)
    ).delete()
    return deleted


def _sweep_digests() -> int:
    deleted, _ = DigestRun.objects.filter(day__lt=(timezone.now() - DIGEST_KEEP).date()).delete()
    return deleted


register(
    Notification,
    category="Notifications",
    purpose="Telling you about announcements, assignments, deadlines, grades, messages and "
    "enrolments, in Lectern and by email",
    owner="recipient",
    fields=[
        "kind",
        "title",
        "body",
        "url",
        "course_id",
        "created_at",
        "read_at",
        "email_state",
        "email_sent_at",
    ],
    retention=Retention(
        "90 days after you read it, or 12 months after it was sent if you never do",
        period=UNREAD_KEEP,
        sweep=_sweep_notifications,
    ),
)
register(
    NotificationPreference,
    category="Notification settings",
    purpose="Sending notification email the way you chose: right away, as a daily digest or "
    "not at all, outside your quiet hours",
    owner="user",
    fields=["email_mode", "quiet_hours_start", "quiet_hours_end", "digest_hour", "updated_at"],
    retention=Retention("While your account exists"),
)
register(
    CourseMute,
    category="Muted courses",
    purpose="Not notifying you about courses you muted",
    owner="user",
    fields=["course_id", "created_at"],
    retention=Retention("Until you unmute the course, or the course or your account is deleted"),
)
register(
    DigestRun,
    category="Notification digests sent",
    purpose="Sending you at most one digest email a day",
    owner="user",
    fields=["day", "state", "sent_at"],
    retention=Retention("90 days", period=DIGEST_KEEP, sweep=_sweep_digests),
)
