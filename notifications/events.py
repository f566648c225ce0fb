"""What happens in courses that people are told about.

Courses announce what happened through their event API (`courses.events`);
`subscribers` enqueues a Celery task for each event once the course's
transaction commits, and the task calls `handle` here. So a rolled-back change
never notifies anyone and a course with many students never slows the
teacher's request. Each notification has a dedupe key, so a task that runs
twice creates nothing the second time.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse

from accounts.models import User
from courses.models import CourseItem, Enrollment, Submission
from notifications.models import Kind, Notification
from notifications.services import notify

ITEM_PUBLISHED = "item_published"
GRADE_RETURNED = "grade_returned"
ENROLLED = "enrolled"
ADDED_BY_TEACHER = "added_by_teacher"
GUEST_REGISTERED = "guest_registered"
PROMOTED = "promoted"

_BODY_CHARS = 280


def handle(event: str, object_id: int) -> int:
    """Create the notifications for one course event; return how many were created."""
    handlers = {
        ITEM_PUBLISHED: _item_published,
        GRADE_RETURNED: _grade_returned,
        ENROLLED: lambda pk: _enrolled(pk, tell_teacher=True, email_student=True),
        ADDED_BY_TEACHER: lambda pk: _enrolled(pk, tell_teacher=False, email_student=False),
        GUEST_REGISTERED: lambda pk: _enrolled(pk, tell_teacher=True, email_student=False),
        PROMOTED: _promoted,
    }
    if event not in handlers:
        raise ValueError(f"Unknown course event {event!r}")
    return handlers[event](object_id)


def _excerpt(markdown_text: str) -> str:
    text = " ".join(markdown_text.replace("#", " ").replace("*", "").split())
    return text if len(text) <= _BODY_CHARS else text[: _BODY_CHARS - 1].rstrip() + "…"


def _item_published(item_id: int) -> int:
    item = (
        CourseItem.objects.select_related("course", "author")
        .filter(pk=item_id, published=True)
        .first()
    )
    if item is None or item.kind not in (Kind.ANNOUNCEMENT, Kind.ASSIGNMENT):
        return 0
    course = item.course
    key = f"item_published:{item.pk}"
    students = User.objects.filter(
        enrollments__course=course, enrollments__status=Enrollment.Status.ACTIVE, is_active=True
    ).exclude(Exists(Notification.objects.filter(recipient=OuterRef("pk"), dedupe_key=key)))
    if item.kind == Kind.ANNOUNCEMENT:
        kind, title = Kind.ANNOUNCEMENT, f"New announcement in {course.title}: {item.title}"
    else:
        kind, title = Kind.ASSIGNMENT, f"New assignment in {course.title}: {item.title}"
    url = reverse("courses:item", args=[course.slug, item.pk])
    body = _excerpt(item.body)
    created = 0
    for student in students.iterator():
        with transaction.atomic():
            created += bool(
                notify(
                    recipient=student,
                    kind=kind,
                    title=title,
                    body=body,
                    url=url,
                    course=course,
                    actor=item.author,
                    dedupe_key=key,
                )
            )
    return created


def _grade_returned(submission_id: int) -> int:
    submission = (
        Submission.objects.select_related("item__course", "student", "graded_by")
        .filter(pk=submission_id, returned_at__isnull=False)
        .first()
    )
    if submission is None:
        return 0
    item, course = submission.item, submission.item.course
    points = submission.points_awarded
    body = f"{points} of {item.points} points." if points is not None and item.points else ""
    with transaction.atomic():
        created = notify(
            recipient=submission.student,
            kind=Kind.GRADE_RETURNED,
            title=f"Your grade for {item.title} is back",
            body=body,
            url=reverse("courses:item", args=[course.slug, item.pk]),
            course=course,
            actor=submission.graded_by,
            # A grade returned again after a re-submission is news again.
            dedupe_key=f"grade_returned:{submission.pk}:{submission.returned_at.isoformat()}",  # type: ignore[union-attr]
        )
    return int(created is not None)


def _enrolled(enrollment_id: int, *, tell_teacher: bool, email_student: bool) -> int:
    enrollment = (
        Enrollment.objects.select_related("course__teacher", "student")
        .filter(pk=enrollment_id, status=Enrollment.Status.ACTIVE)
        .first()
    )
    if enrollment is None:
        return 0
    course, student = enrollment.course, enrollment.student
    stamp = enrollment.enrolled_at.isoformat()
    created = 0
    with transaction.atomic():
        created += bool(
            notify(
                recipient=student,
                kind=Kind.ENROLMENT,
                title=f"You're enrolled in {course.title}",
                body="Your seat is confirmed. The course page has everything published so far.",
                url=reverse("courses:course", args=[course.slug]),
                course=course,
                actor=course.teacher,
                dedupe_key=f"enrolled:{enrollment.pk}:{stamp}",
                email=email_student,
            )
        )
        if tell_teacher:
            name = student.get_full_name() or student.email
            created += bool(
                notify(
                    recipient=course.teacher,
                    kind=Kind.ENROLMENT,
                    title=f"{name} enrolled in {course.title}",
                    body="",
                    url=reverse("courses:roster", args=[course.slug]),
                    course=course,
                    actor=student,
                    dedupe_key=f"new_student:{enrollment.pk}:{stamp}",
                )
            )
    return created


def _promoted(enrollment_id: int) -> int:
    enrollment = (
        Enrollment.objects.select_related("course__teacher", "student")
        .filter(pk=enrollment_id, status=Enrollment.Status.ACTIVE)
        .first()
    )
    if enrollment is None:
        return 0
    course = enrollment.course
    with transaction.atomic():
        created = notify(
            recipient=enrollment.student,
            kind=Kind.WAITLIST_PROMOTION,
            title=f"A seat in {course.title} is yours",
            body="You were next on the waitlist, so you're now enrolled.",
            url=reverse("courses:course", args=[course.slug]),
            course=course,
            actor=course.teacher,
            dedupe_key=f"promoted:{enrollment.pk}:{enrollment.enrolled_at.isoformat()}",
            # The seat email from enrolment already went out; this is the in-app copy.
            email=False,
        )
    return int(created is not None)


def notify_course_closed(*, course_id: int, title: str, student_ids: tuple[int, ...]) -> int:
    """Tell a deleted course's students it has closed; return how many were told.

    The notification carries no course link (the course is gone) and does not
    name the teacher, whose account is being erased.
    """
    created = 0
    for student in User.objects.filter(pk__in=student_ids, is_active=True).order_by("pk"):
        created += bool(
            notify(
                recipient=student,
                kind=Kind.ENROLMENT,
                title=f"{title} has closed"[:200],
                body=f"The teacher of {title} has left Lectern, so the course and "
                "everything in it has been deleted.",
                dedupe_key=f"course-closed:{course_id}",
            )
        )
    return created
