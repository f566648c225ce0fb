"""Read-only queries that several pages share, each a fixed number of queries."""

from datetime import timedelta
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from courses.models import CourseItem, Enrollment, ItemKind, Submission, WaitlistEntry

DUE_SOON = timedelta(days=7)


def _count(queryset: QuerySet[Any]) -> Coalesce:
    """Count the rows of a correlated subquery, as one column of the outer query."""
    counted = queryset.order_by().values("course_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def student_courses(user: Any) -> QuerySet[Enrollment]:
    """Return `user`'s active enrolments with what's new and what's due, in one query.

    Each enrolment carries `new_count` (items published since the previous
    visit, or since enrolling before the first one), `due_count` and
    `next_due_at` (assignments due within a week and not yet submitted), and
    `next_session_at`. The dashboard includes `courses/learning/_my_courses.html`
    with these as `enrollments`.
    """
    now = timezone.now()
    items = CourseItem.objects.visible_to_students().filter(course_id=OuterRef("course_id"))
    new = items.filter(
        published_at__gt=Coalesce(OuterRef("last_visited_at"), OuterRef("enrolled_at"))
    )
    submitted = Submission.objects.filter(item_id=OuterRef("pk"), student_id=user.pk)
    due = items.filter(kind=ItemKind.ASSIGNMENT, due_at__gte=now, due_at__lt=now + DUE_SOON).filter(
        ~Exists(submitted)
    )
    sessions = items.filter(kind=ItemKind.SESSION, starts_at__gte=now - timedelta(hours=1))
    return (
        Enrollment.objects.filter(student_id=user.pk, status=Enrollment.Status.ACTIVE)
        .select_related("course__teacher")
        .annotate(
            new_count=_count(new),
            due_count=_count(due),
            next_due_at=Subquery(
                due.order_by("due_at").values("due_at")[:1], output_field=DateTimeField()
            ),
            next_session_at=Subquery(
                sessions.order_by("starts_at").values("starts_at")[:1],
                output_field=DateTimeField(),
            ),
        )
        .order_by("course__title", "pk")
    )


def course_items_for_student(course: Any) -> QuerySet[CourseItem]:
    """Return what students see of `course`, in order, with each item's file."""
    return course.items.visible_to_students().select_related("file").order_by("position", "pk")


def submitted_item_ids(user: Any, course: Any) -> set[int]:
    return set(
        Submission.objects.filter(student_id=user.pk, item__course=course).values_list(
            "item_id", flat=True
        )
    )


def roster(
    course: Any,
) -> tuple[QuerySet[Enrollment], QuerySet[Enrollment], QuerySet[WaitlistEntry]]:
    """Return the active enrolments (by name), the unexpired holds and the waitlist of `course`."""
    enrolled = (
        Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE)
        .select_related("student")
        .order_by("student__last_name", "student__first_name", "student__email")
    )
    held = (
        Enrollment.objects.filter(
            course=course, status=Enrollment.Status.HELD, hold_expires_at__gt=timezone.now()
        )
        .select_related("student")
        .order_by("hold_expires_at", "pk")
    )
    waiting = WaitlistEntry.objects.filter(course=course).select_related("student")
    return enrolled, held, waiting
