from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models.course import Course


class ItemKind(models.TextChoices):
    ANNOUNCEMENT = "announcement", _("Announcement")
    MATERIAL = "material", _("Material")
    ASSIGNMENT = "assignment", _("Assignment")
    NOTE = "note", _("Note")
    SESSION = "session", _("Session")
    FILE = "file", _("File")
    LINK = "link", _("Link")


class Delivery(models.TextChoices):
    """Where a session takes place."""

    EXTERNAL = "external", _("External link")
    LIVE = "live", _("Live on Lectern")


class LatePolicy(models.TextChoices):
    ACCEPT = "accept", _("Accept late work, flagged as late")
    REFUSE = "refuse", _("Refuse submissions after the due time")


class CourseItemQuerySet(models.QuerySet["CourseItem"]):
    def visible_to_students(self) -> "CourseItemQuerySet":
        """Published items, without the teacher's private notes."""
        return self.filter(published=True).exclude(kind=ItemKind.NOTE, is_private=True)


class CourseItem(models.Model):
    """One entry in a course's ordered list of content.

    One table for every kind keeps a course page to a fixed number of queries;
    the fields a kind doesn't use stay empty.
    """

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=12, choices=ItemKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, help_text=_("Markdown."))
    position = models.PositiveIntegerField(default=0)
    published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # Assignment
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    late_policy = models.CharField(
        max_length=8, choices=LatePolicy.choices, default=LatePolicy.ACCEPT, blank=True
    )
    # Note
    is_private = models.BooleanField(_("only visible to me"), default=True)
    # Session
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    delivery = models.CharField(
        _("where it takes place"),
        max_length=8,
        choices=Delivery.choices,
        default=Delivery.EXTERNAL,
        db_default=Delivery.EXTERNAL,
    )
    meeting_url = models.URLField(_("meeting link"), max_length=500, blank=True)
    # Link
    url = models.URLField(_("link"), max_length=1000, blank=True)
    # File
    file = models.ForeignKey(
        "files.StoredFile", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CourseItemQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["course", "position"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="session") | Q(starts_at__isnull=False),
                name="session_has_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="link") | ~Q(url=""),
                name="link_has_url",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def ends_at(self) -> datetime | None:
        if self.starts_at is None or self.duration_minutes is None:
            return None
        return self.starts_at + timedelta(minutes=self.duration_minutes)
