from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models.items import CourseItem


class Submission(models.Model):
    """A student's work on an assignment; re-submitting replaces it until the deadline."""

    item = models.ForeignKey(CourseItem, on_delete=models.CASCADE, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    text = models.TextField(_("answer"), blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=1)
    is_late = models.BooleanField(default=False)
    points_awarded = models.PositiveIntegerField(_("points"), null=True, blank=True)
    feedback = models.TextField(_("feedback"), blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    returned_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the grade was shown to the student.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "student"], name="submission_once"),
        ]
        indexes = [models.Index(fields=["item", "graded_at"])]

    def __str__(self) -> str:
        return f"{self.student} — {self.item}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    ABSENT = "absent", _("Absent")


class AttendanceSource(models.TextChoices):
    TEACHER = "teacher", _("Marked by the teacher")
    LIVE = "live", _("From the live room")


class Attendance(models.Model):
    """Whether a student attended one session.

    A live session fills the sheet from the minutes each student spent in the
    room (`source` LIVE); a row the teacher marked (`source` TEACHER) is never
    overwritten by that.
    """

    item = models.ForeignKey(CourseItem, on_delete=models.CASCADE, related_name="attendance")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attendance"
    )
    status = models.CharField(max_length=8, choices=AttendanceStatus.choices)
    source = models.CharField(
        max_length=8,
        choices=AttendanceSource.choices,
        default=AttendanceSource.TEACHER,
        db_default=AttendanceSource.TEACHER,
    )
    # Minutes in the live room, when the session was live on Lectern.
    live_minutes = models.PositiveIntegerField(null=True, blank=True)
    marked_at = models.DateTimeField(default=timezone.now)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "student"], name="attendance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.status} at {self.item}"
