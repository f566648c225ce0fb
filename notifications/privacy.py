"""What notifications hold about people.

A notification belongs to its recipient. It is deleted 90 days after it was
read, or 12 months after it was created if it never was; a deleted course or
account takes its notifications with it. The person who caused a notification
(`actor`) is a link that is cleared when their account goes, and their name
in the title and body of other people's notifications becomes "Deleted user".
"""

from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications import services
from notifications.models import (
    CourseMute,
    DigestRun,
    EmailMode,
    Notification,
    NotificationPreference,
    preference_for,
)
from privacy.registry import Consent, Retention, consent, register

READ_KEEP = timedelta(days=90)
UNREAD_KEEP = timedelta(days=365)
DIGEST_KEEP = timedelta(days=90)


def _expired_notifications() -> QuerySet:
    now = timezone.now()
    return Notification.objects.filter(
        Q(read_at__lt=now - READ_KEEP) | Q(created_at__lt=now - UNREAD_KEEP)
    )


DELETED_NAME = "Deleted user"


def _names_of(user: Any) -> list[str]:
    """The ways a notification may name `user`, longest first so a title wins over a bare name."""
    full = f"{user.first_name} {user.last_name}".strip()
    titled = f"{user.title} {full}".strip() if user.title else ""
    return [name for name in (titled, full) if name]


def _erase_notifications(user: Any) -> int:
    """Delete `user`'s notifications, and take their name out of the ones others received."""
    deleted, _ = Notification.objects.filter(recipient=user).delete()
    names = _names_of(user)
    changed = 0
    for notification in Notification.objects.filter(actor=user).iterator(chunk_size=500):
        for name in names:
            notification.title = notification.title.replace(name, DELETED_NAME)
            notification.body = notification.body.replace(name, DELETED_NAME)
        notification.actor = None
        notification.save(update_fields=["title", "body", "actor"])
        changed += 1
    return deleted + changed


def _expired_digests() -> QuerySet:
    return DigestRun.objects.filter(day__lt=(timezone.now() - DIGEST_KEEP).date())


register(
    Notification,
    category="Notifications",
    purpose="Telling you about announcements, assignments, deadlines, grades, messages and "
    "enrolments, in Lectern and by email",
    owner="recipient",
    dated_by="created_at",
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
    eraser=_erase_notifications,
    erasure_note="Deleted; in notifications other people received about you, your name "
    'becomes "Deleted user"',
    retention=Retention(
        "90 days after you read it, or 12 months after it was sent if you never do",
        period=UNREAD_KEEP,
        expired=_expired_notifications,
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
    dated_by="created_at",
    fields=["course_id", "created_at"],
    retention=Retention("Until you unmute the course, or the course or your account is deleted"),
)
register(
    DigestRun,
    category="Notification digests sent",
    purpose="Sending you at most one digest email a day",
    owner="user",
    dated_by="sent_at",
    fields=["day", "state", "sent_at"],
    retention=Retention("90 days", period=DIGEST_KEEP, expired=_expired_digests),
)


def _wants_email(user: Any) -> bool:
    return preference_for(user).email_mode != EmailMode.OFF


def _set_email(user: Any, wanted: bool) -> None:
    pref = preference_for(user)
    if wanted == (pref.email_mode != EmailMode.OFF):
        # Someone on the daily digest who leaves the box ticked keeps their digest.
        return
    # Turning email back on restores "right away"; the detailed settings are kept.
    services.save_preferences(
        user=user,
        email_mode=EmailMode.IMMEDIATE if wanted else EmailMode.OFF,
        quiet_hours_start=pref.quiet_hours_start,
        quiet_hours_end=pref.quiet_hours_end,
        digest_hour=pref.digest_hour,
    )


consent(
    Consent(
        name="email_notifications",
        label="Email me notifications",
        help_text="Announcements, grades, messages and reminders, by email as well as in Lectern.",
        given=_wants_email,
        save=_set_email,
        position=10,
        more_text="A daily digest instead, quiet hours or muted courses:",
        more_link_text="notification settings",
        more_url_name="notifications:preferences",
    )
)
