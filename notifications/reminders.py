"""Reminders of assignments due soon that a student has not submitted yet."""

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courses.models import CourseItem, Enrollment, ItemKind, Submission
from notifications.models import Kind, Notification
from notifications.services import notify

DUE_SOON_WINDOW = dt.timedelta(hours=24)


def due_soon_key(item_id: int) -> str:
    return f"due_soon:{item_id}"


def notify_due_soon(*, at: dt.datetime | None = None) -> int:
    """Remind each student once per assignment due within 24 hours that they haven't submitted.

    Return how many reminders were created. Safe to run as often as wanted: the
    dedupe key makes a second reminder for the same assignment impossible.
    """
    at = at or timezone.now()
    items = CourseItem.objects.filter(
        kind=ItemKind.ASSIGNMENT,
        published=True,
        due_at__gt=at,
        due_at__lte=at + DUE_SOON_WINDOW,
        course__archived_at__isnull=True,
    ).select_related("course")
    created = 0
    for item in items:
        key = due_soon_key(item.pk)
        students = (
            User.objects.filter(
                is_active=True,
                enrollments__course_id=item.course_id,
                enrollments__status=Enrollment.Status.ACTIVE,
            )
            .exclude(Exists(Submission.objects.filter(item=item, student=OuterRef("pk"))))
            .exclude(Exists(Notification.objects.filter(recipient=OuterRef("pk"), dedupe_key=key)))
        )
        url = reverse("courses:item", args=[item.course.slug, item.pk])
        for student in students.iterator():
            with transaction.atomic():
                created += bool(
                    notify(
                        recipient=student,
                        kind=Kind.DUE_SOON,
                        title=f"{item.title} is due soon",
                        body=f"Due in less than a day, in {item.course.title}. "
                        "You haven't submitted anything yet.",
                        url=url,
                        course=item.course,
                        dedupe_key=key,
                    )
                )
    return created
