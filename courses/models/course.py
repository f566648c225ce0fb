from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from courses import selling


class Visibility(models.TextChoices):
    DRAFT = "draft", _("Draft — only you")
    UNLISTED = "unlisted", _("Unlisted — anyone with the link")
    PUBLIC = "public", _("Public — listed on your page")


def _count(queryset: QuerySet[Any]) -> Coalesce:
    """Count a correlated subquery's rows as one column of the outer query."""
    counted = queryset.values("course_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class CourseQuerySet(models.QuerySet["Course"]):
    def listed(self) -> "CourseQuerySet":
        """Courses anyone may find: public, not archived, by a teacher whose account is on."""
        return self.filter(
            visibility=Visibility.PUBLIC, archived_at__isnull=True, teacher__is_active=True
        )

    def reachable(self) -> "CourseQuerySet":
        """Courses a visitor may open by link: public or unlisted, not archived, teacher active.

        The filter form of `enrolment_policy.decide(...).public_reachable`, for
        many rows at once; the rule-table test keeps the two in step.
        """
        return self.filter(
            visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED],
            archived_at__isnull=True,
            teacher__is_active=True,
        )

    def taught_by(self, user: Any) -> "CourseQuerySet":
        return self.filter(teacher=user)

    def with_enrolment_facts(self, at: datetime | None = None) -> "CourseQuerySet":
        """Annotate what `courses.enrolment_policy` decides from, still in one query.

        `seats_taken` counts active enrolments and holds not yet expired at `at`
        (now by default); `guest_holds` counts those holds still waiting for a
        visitor to confirm their address; `teacher_active` is the teacher's
        account switch; `teacher_can_sell` whether they can take payments now
        and `teacher_paused` why their new paid enrolments are stopped ("" when
        they aren't) (`courses.selling`, filled in by billing).
        """
        at = at or now()
        enrolments = Enrollment.objects.filter(course=OuterRef("pk")).order_by()
        return self.annotate(
            seats_taken=_count(enrolments.taking_seats(at)),
            guest_holds=_count(enrolments.guest_holds(at)),
            teacher_active=models.F("teacher__is_active"),
            teacher_can_sell=selling.can_sell_expression(),
            teacher_paused=selling.paused_expression(),
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
    # Live classes
    students_may_publish = models.BooleanField(
        _("students may turn on their camera and microphone in live classes"),
        default=False,
        help_text=_("Otherwise students watch and chat, and speak when you invite them on stage."),
    )
    late_after_minutes = models.PositiveSmallIntegerField(
        _("late after (minutes)"),
        default=10,
        help_text=_("A student who first joins a live class later than this is marked late."),
    )
    present_min_percent = models.PositiveSmallIntegerField(
        _("present for at least (% of the session)"),
        default=50,
        validators=[MaxValueValidator(100)],
        help_text=_("A student in the room for less of the session than this is marked absent."),
    )
    # Course AI
    ai_assistant = models.BooleanField(
        _("course assistant for students"),
        default=False,
        db_default=False,
        help_text=_(
            "Students who turn on AI features may ask questions answered from this course's "
            "published items, with links to the items used."
        ),
    )
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
        return reverse("storefront:course", args=[self.slug])

    @property
    def is_free(self) -> bool:
        return self.price_amount == 0

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class EnrollmentQuerySet(models.QuerySet["Enrollment"]):
    def taking_seats(self, at: datetime) -> "EnrollmentQuerySet":
        """Enrolments that occupy a seat at `at`: active ones and holds not yet expired."""
        return self.filter(
            Q(status=Enrollment.Status.ACTIVE)
            | Q(status=Enrollment.Status.HELD, hold_expires_at__gt=at)
        )

    def guest_holds(self, at: datetime) -> "EnrollmentQuerySet":
        """Unexpired holds of visitors who haven't confirmed their email address yet."""
        return self.filter(
            status=Enrollment.Status.HELD,
            hold_reason=Enrollment.HoldReason.GUEST,
            hold_expires_at__gt=at,
        )

    def expired_holds(self, at: datetime) -> "EnrollmentQuerySet":
        return self.filter(status=Enrollment.Status.HELD, hold_expires_at__lte=at)


class Enrollment(models.Model):
    """A student's place in a course, one row per student and course, moving through states.

    held → active → left / removed, and held → released when the hold lapses
    or is given up; the transitions live in `courses.services.enrolment`
    (and its `holds` and `registration` siblings), which checks them against
    `TRANSITIONS`. Rows stay after leaving, for history, and are reused when
    the student comes back.
    """

    class Status(models.TextChoices):
        HELD = "held", _("Seat held")
        ACTIVE = "active", _("Enrolled")
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed by the teacher")
        RELEASED = "released", _("Hold released")

    class HoldReason(models.TextChoices):
        GUEST = "guest", _("Waiting for the student to confirm their email address")
        PAYMENT = "payment", _("Waiting for a payment to complete")

    # Which states each state may move to. A row that doesn't exist yet behaves
    # like an ended one (left, removed by a teacher's own decision to re-add,
    # released): it may be held or made active.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.HELD: frozenset({Status.ACTIVE, Status.RELEASED, Status.REMOVED, Status.HELD}),
        Status.ACTIVE: frozenset({Status.LEFT, Status.REMOVED}),
        Status.LEFT: frozenset({Status.HELD, Status.ACTIVE}),
        Status.REMOVED: frozenset({Status.HELD, Status.ACTIVE}),
        Status.RELEASED: frozenset({Status.HELD, Status.ACTIVE}),
    }

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    enrolled_at = models.DateTimeField(default=now)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_visited_at = models.DateTimeField(null=True, blank=True)
    # Set while the seat is held (and kept once it lapses, to say why it was held).
    hold_reason = models.CharField(max_length=8, choices=HoldReason.choices, blank=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="enrollment_once"),
            models.CheckConstraint(
                condition=~Q(status="held")
                | (Q(hold_expires_at__isnull=False) & ~Q(hold_reason="")),
                name="enrollment_hold_has_reason_and_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["course", "status"]),
            models.Index(fields=["student", "status"]),
            models.Index(fields=["status", "hold_expires_at"], name="enrollment_hold_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.course}"

    def hold_expired(self, at: datetime | None = None) -> bool:
        """Say whether this is a hold whose time is up (swept or not)."""
        return (
            self.status == self.Status.HELD
            and self.hold_expires_at is not None
            and self.hold_expires_at <= (at or now())
        )


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
