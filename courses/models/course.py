from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class Visibility(models.TextChoices):
    DRAFT = "draft", _("Draft — only you")
    UNLISTED = "unlisted", _("Unlisted — anyone with the link")
    PUBLIC = "public", _("Public — listed on your page")


class CourseQuerySet(models.QuerySet["Course"]):
    def listed(self) -> "CourseQuerySet":
        """Courses anyone may find: public, not archived, by a teacher whose account is on."""
        return self.filter(
            visibility=Visibility.PUBLIC, archived_at__isnull=True, teacher__is_active=True
        )

    def reachable(self) -> "CourseQuerySet":
        """Courses a visitor may open by link: public or unlisted, not archived, teacher active."""
        return self.filter(
            visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED],
            archived_at__isnull=True,
            teacher__is_active=True,
        )

    def taught_by(self, user: Any) -> "CourseQuerySet":
        return self.filter(teacher=user)

    def with_seat_counts(self) -> "CourseQuerySet":
        return self.annotate(
            active_count=models.Count(
                "enrollments", filter=Q(enrollments__status=Enrollment.Status.ACTIVE)
            )
        )


class Course(models.Model):
    """A course a teacher runs: its storefront facts, schedule, seats and price."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="courses_taught"
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("web address"), max_length=80, unique=True)
    summary = models.CharField(_("one-line summary"), max_length=280, blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    cover = models.ForeignKey(
        "files.StoredFile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    schedule = models.CharField(
        _("schedule"), max_length=200, blank=True, help_text=_("e.g. Tuesdays 18:00 to 19:30")
    )
    timezone = models.CharField(_("course time zone"), max_length=64, default="UTC")
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.DRAFT
    )
    capacity = models.PositiveIntegerField(
        _("seats"), null=True, blank=True, help_text=_("Leave empty for unlimited.")
    )
    # Money in integer minor units (cents) with its ISO currency; 0 means free.
    price_amount = models.PositiveIntegerField(_("price"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["teacher", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="course_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="course_capacity_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:storefront", args=[self.slug])

    @property
    def is_free(self) -> bool:
        return self.price_amount == 0

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Enrollment(models.Model):
    """A student's place in a course. Rows stay after leaving, for history."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Enrolled")
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed by the teacher")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    enrolled_at = models.DateTimeField(default=now)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_visited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="enrollment_once"),
        ]
        indexes = [
            models.Index(fields=["course", "status"]),
            models.Index(fields=["student", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.course}"


class WaitlistEntry(models.Model):
    """A student waiting for a seat; promoted in the order they joined."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="waitlist")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    joined_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="waitlist_once"),
        ]

    def __str__(self) -> str:
        return f"{self.student} waiting for {self.course}"
