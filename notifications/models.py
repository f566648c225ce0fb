"""In-app notifications, their email delivery state, and each person's preferences.

A `Notification` is one row per recipient and event. Its email goes through the
states in `EmailState`; the sending task moves a row from PENDING to SENDING
with a conditional update before it talks to the mail backend, so two workers
never send the same row (see `notifications.delivery`).
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ANNOUNCEMENT = "announcement", _("New announcement")
    ASSIGNMENT = "assignment", _("New assignment")
    DUE_SOON = "due_soon", _("Due soon")
    GRADE_RETURNED = "grade_returned", _("Grade returned")
    MESSAGE = "message", _("New message")
    ENROLMENT = "enrolment", _("Enrolment")
    WAITLIST_PROMOTION = "waitlist_promotion", _("Waitlist place")
    PAYMENT = "payment", _("Payments and refunds")


# Kinds about the recipient's own standing in a course; muting the course still
# shows them in the app (never by email), because missing one costs the person.
PERSONAL_KINDS = frozenset(
    {Kind.GRADE_RETURNED, Kind.ENROLMENT, Kind.WAITLIST_PROMOTION, Kind.PAYMENT}
)


class EmailState(models.TextChoices):
    NONE = "none", _("No email")  # email off, course muted, or read before it went out
    PENDING = "pending", _("Waiting to send")  # immediate; may be held until email_not_before
    DIGEST = "digest", _("Waiting for the daily digest")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("Right away")
    DIGEST = "digest", _("Once a day, in a digest")
    OFF = "off", _("No email")


class Notification(models.Model):
    """One thing that happened that one person should know about."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dedupe_key = models.CharField(_("dedupe key"), max_length=200)
    created_at = models.DateTimeField(_("created"), default=now, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    email_state = models.CharField(
        _("email"), max_length=8, choices=EmailState.choices, default=EmailState.NONE
    )
    email_not_before = models.DateTimeField(_("email not before"), null=True, blank=True)
    email_claimed_at = models.DateTimeField(_("email claimed"), null=True, blank=True)
    email_sent_at = models.DateTimeField(_("email sent"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("email attempts"), default=0)
    digest = models.ForeignKey(
        "notifications.DigestRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notifications_unique_dedupe_key"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notif_unread",
            ),
            models.Index(
                fields=["email_state", "email_not_before"],
                condition=Q(email_state__in=["pending", "digest", "sending"]),
                name="notif_email_queue",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How and when one person wants notification email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_mode = models.CharField(
        _("email me"), max_length=9, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    quiet_hours_start = models.TimeField(
        _("quiet hours from"),
        null=True,
        blank=True,
        help_text=_("In your time zone. Emails due inside quiet hours wait until they end."),
    )
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    digest_hour = models.PositiveSmallIntegerField(
        _("send the digest at"),
        default=8,
        help_text=_("Hour of the day in your time zone, 0 to 23."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"

    @property
    def has_quiet_hours(self) -> bool:
        return (
            self.quiet_hours_start is not None
            and self.quiet_hours_end is not None
            and self.quiet_hours_start != self.quiet_hours_end
        )

    def quiet_until(self, at: dt.datetime, tz: dt.tzinfo) -> dt.datetime | None:
        """Return when the quiet hours around `at` end (aware), or None outside them."""
        if not self.has_quiet_hours:
            return None
        start: dt.time = self.quiet_hours_start  # type: ignore[assignment]
        end: dt.time = self.quiet_hours_end  # type: ignore[assignment]
        local = at.astimezone(tz)
        t = local.time().replace(tzinfo=None)
        if start < end:
            inside = start <= t < end
            end_day = local.date()
        else:  # spans midnight, e.g. 22:00 to 07:00
            inside = t >= start or t < end
            end_day = local.date() + dt.timedelta(days=1) if t >= start else local.date()
        if not inside:
            return None
        naive_end = dt.datetime.combine(end_day, end)
        # Build the wall-clock time in the zone; fold=0 picks the first of a repeated hour.
        return naive_end.replace(tzinfo=tz).astimezone(dt.UTC)


class CourseMute(models.Model):
    """A course someone muted: no notifications from it, except about their own standing."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_mutes"
    )
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="mutes")
    created_at = models.DateTimeField(_("muted"), default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="notifications_unique_mute"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} muted {self.course_id}"


class DigestRun(models.Model):
    """One person's daily digest for one local day; unique so a day is sent at most once."""

    class State(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        EMPTY = "empty", _("Nothing to send")
        FAILED = "failed", _("Failed, to be tried again")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_digests"
    )
    day = models.DateField(_("day"))
    state = models.CharField(_("state"), max_length=7, choices=State.choices, default=State.SENDING)
    claimed_at = models.DateTimeField(_("claimed"), default=now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="notifications_unique_digest_day"),
        ]

    def __str__(self) -> str:
        return f"Digest {self.day} for {self.user_id}"


def preference_for(user: Any) -> NotificationPreference:
    """Return the user's preferences, unsaved defaults when they never chose."""
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)
