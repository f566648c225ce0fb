"""Create notifications, mark them read, and change notification preferences."""

import datetime as dt
import zoneinfo
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.timezone import now

from core import jobs
from core.cache import Copies
from notifications.models import (
    PERSONAL_KINDS,
    CourseMute,
    EmailMode,
    EmailState,
    Kind,
    Notification,
    NotificationPreference,
    preference_for,
)
from outbox import services as outbox

# Enqueued by name: the tasks module imports this one (core.jobs explains why).
SEND_EMAIL_TASK = "notifications.tasks.send_notification_email_task"

# The header's unread count, kept per person while nothing changes it. Every path that
# creates or reads a notification drops it; retention sweeps that delete year-old unread
# rows don't, and the copy's expiry catches up with those.
_unread_counts = Copies("notifications-unread", timeout=10 * 60)


def user_zone(user: Any) -> dt.tzinfo:
    """Return the user's time zone, UTC when it is unknown."""
    try:
        return zoneinfo.ZoneInfo(user.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def is_muted(user: Any, course: Any) -> bool:
    return course is not None and CourseMute.objects.filter(user=user, course=course).exists()


def notify(
    *,
    recipient: Any,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    course: Any = None,
    actor: Any = None,
    dedupe_key: str,
    email: bool = True,
) -> Notification | None:
    """Tell `recipient` about something, once per `dedupe_key`.

    Returns the new notification, or None when nothing was created: the key was
    used before, the recipient's account is inactive, or they muted the course
    (notifications about their own standing — grades, enrolment, waitlist —
    still appear in the app, without email). Immediate email is queued once the
    surrounding transaction commits; inside the recipient's quiet hours it is
    held until they end. `email=False` keeps it in the app only, for events
    whose own transactional email already went out (an invitation, a seat from
    the waitlist).
    """
    if kind not in Kind.values:
        raise ValueError(f"Unknown notification kind: {kind!r}")
    if not dedupe_key:
        raise ValueError("A dedupe_key is required.")
    if recipient is None or not recipient.is_active:
        return None
    muted = is_muted(recipient, course)
    if muted and kind not in PERSONAL_KINDS:
        return None

    pref = preference_for(recipient)
    at = now()
    email_state = EmailState.NONE
    not_before = None
    if email and not muted and pref.email_mode == EmailMode.IMMEDIATE:
        email_state = EmailState.PENDING
        not_before = pref.quiet_until(at, user_zone(recipient))
    elif email and not muted and pref.email_mode == EmailMode.DIGEST:
        email_state = EmailState.DIGEST

    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                kind=kind,
                title=title[:200],
                body=body,
                url=url[:500],
                course=course,
                actor=actor,
                dedupe_key=dedupe_key[:200],
                created_at=at,
                email_state=email_state,
                email_not_before=not_before,
            )
    except IntegrityError:  # this key was used before: insert first, the constraint decides
        return None
    _unread_counts.drop([recipient.pk])

    if email_state == EmailState.PENDING and not_before is None:
        # A broker that can't be reached is logged; the held-emails job sends it instead.
        outbox.enqueue_task_on_commit(jobs.task(SEND_EMAIL_TASK), notification.pk)
    return notification


def unread_count(user: Any) -> int:
    """Return how many of `user`'s notifications are unread.

    From the shared cache when it holds the count; otherwise counted on the
    partial index of unread rows (`notif_unread`), which holds only those.
    """
    return _unread_counts.get_or_load(
        user.pk, lambda: Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    )


@transaction.atomic
def mark_read(*, notification: Notification) -> None:
    """Mark one notification read; a held or digest email for it is no longer needed."""
    if notification.read_at is not None:
        return
    notification.read_at = now()
    notification.save(update_fields=["read_at"])
    _drop_unsent_email(Notification.objects.filter(pk=notification.pk))
    _unread_counts.drop([notification.recipient_id])


@transaction.atomic
def mark_all_read(*, user: Any) -> int:
    """Mark every unread notification of `user` read; return how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    ids = list(unread.values_list("pk", flat=True))
    changed = unread.update(read_at=now())
    _drop_unsent_email(Notification.objects.filter(pk__in=ids))
    _unread_counts.drop([user.pk])
    return changed


def _drop_unsent_email(rows: QuerySet[Notification]) -> None:
    # Already seen in the app: an email still waiting for quiet hours or the
    # digest would only repeat it. Rows being sent right now are left alone.
    rows.filter(email_state__in=[EmailState.PENDING, EmailState.DIGEST]).update(
        email_state=EmailState.NONE
    )


@transaction.atomic
def save_preferences(
    *,
    user: Any,
    email_mode: str,
    quiet_hours_start: dt.time | None,
    quiet_hours_end: dt.time | None,
    digest_hour: int,
) -> NotificationPreference:
    """Store how and when `user` wants notification email."""
    pref, _ = NotificationPreference.objects.get_or_create(user=user)
    previous_mode = pref.email_mode
    pref.email_mode = email_mode
    pref.quiet_hours_start = quiet_hours_start
    pref.quiet_hours_end = quiet_hours_end
    pref.digest_hour = digest_hour
    pref.save(
        update_fields=[
            "email_mode",
            "quiet_hours_start",
            "quiet_hours_end",
            "digest_hour",
            "updated_at",
        ]
    )
    if previous_mode != email_mode:
        _requeue_waiting_email(user=user, email_mode=email_mode)
    return pref


def _requeue_waiting_email(*, user: Any, email_mode: str) -> None:
    # Emails still waiting follow the new choice; those already sent stay sent.
    waiting = Notification.objects.filter(
        recipient=user, email_state__in=[EmailState.PENDING, EmailState.DIGEST]
    )
    if email_mode == EmailMode.OFF:
        waiting.update(email_state=EmailState.NONE)
    elif email_mode == EmailMode.DIGEST:
        waiting.update(email_state=EmailState.DIGEST, email_not_before=None)
    else:
        # Sent by the periodic job for held emails, so no burst of tasks here.
        waiting.update(email_state=EmailState.PENDING, email_not_before=now())


@transaction.atomic
def set_email_mode(*, user: Any, email_mode: str) -> NotificationPreference:
    """Change only the email choice, keeping quiet hours and digest time."""
    pref = preference_for(user)
    return save_preferences(
        user=user,
        email_mode=email_mode,
        quiet_hours_start=pref.quiet_hours_start,
        quiet_hours_end=pref.quiet_hours_end,
        digest_hour=pref.digest_hour,
    )


@transaction.atomic
def mute_course(*, user: Any, course: Any) -> bool:
    """Mute `course` for `user`; return True when it was not muted before."""
    _, created = CourseMute.objects.get_or_create(user=user, course=course)
    if created:
        Notification.objects.filter(
            recipient=user,
            course=course,
            email_state__in=[EmailState.PENDING, EmailState.DIGEST],
        ).update(email_state=EmailState.NONE)
    return created


@transaction.atomic
def unmute_course(*, user: Any, course: Any) -> bool:
    """Unmute `course` for `user`; return True when it was muted."""
    deleted, _ = CourseMute.objects.filter(user=user, course=course).delete()
    return bool(deleted)
