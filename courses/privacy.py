"""What courses hold about people.

Course content is the teacher's: it is kept while the teacher's account is
active, and deleting a course removes its items, files, submissions,
attendance and enrolments with it (database cascades; stored files through
`files.services.delete_files`).
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.template.defaultfilters import pluralize

from accounts.models import User
from courses import events
from courses.models import (
    Attendance,
    CalendarFeed,
    Course,
    CourseItem,
    Enrollment,
    PersonalEvent,
    Submission,
    WaitlistEntry,
)
from files import services as files
from files.models import StoredFile
from privacy.registry import DeletionWarning, Retention, deletion_warnings, register

_WHILE_COURSE = "While the course exists; deleting the course or your account removes it"


def _erase_courses(teacher: Any) -> int:
    """Delete each course with everything in it; its students are told it has closed.

    The event carries what the notification needs, since the course is gone
    once it is delivered; it does not name the teacher, whose name is being
    erased.
    """
    count = 0
    for course in Course.objects.filter(teacher=teacher).order_by("pk"):
        students = set(
            Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).values_list(
                "student_id", flat=True
            )
        ) | set(WaitlistEntry.objects.filter(course=course).values_list("student_id", flat=True))
        events.emit(
            events.CourseClosed(
                course_id=course.pk, title=course.title, student_ids=tuple(sorted(students))
            )
        )
        files.erase_files(StoredFile.objects.filter(course=course))
        course.delete()
        count += 1
    return count


def _teaching_warnings(user: Any) -> Iterator[DeletionWarning]:
    """Warn a teacher that their courses close, and how many students are told."""
    if not user.is_teacher:
        return
    courses = Course.objects.filter(teacher=user)
    count = courses.count()
    if not count:
        return
    enrolled = Enrollment.objects.filter(
        course__in=courses, status=Enrollment.Status.ACTIVE
    ).values_list("student_id", flat=True)
    waiting = WaitlistEntry.objects.filter(course__in=courses).values_list("student_id", flat=True)
    students = User.objects.filter(Q(pk__in=enrolled) | Q(pk__in=waiting)).count()
    body = "With all their materials, files, submissions and messages."
    if students:
        body += (
            f" Their {students} student{pluralize(students)} will be told, in Lectern and by email."
        )
    body += " If someone should carry on teaching them, arrange it before you delete your account."
    yield DeletionWarning(title=f"Your {count} course{pluralize(count)} will be deleted", body=body)


register(
    Course,
    category="Courses you teach",
    purpose="Publishing your courses on their storefront pages and running them",
    owner="teacher",
    dated_by="created_at",
    eraser=_erase_courses,
    erasure_note="Deleted with everything in them; their students are told the course has closed",
    fields=[
        "title",
        "slug",
        "summary",
        "description",
        "starts_on",
        "ends_on",
        "schedule",
        "timezone",
        "visibility",
        "capacity",
        "price_amount",
        "currency",
        "organisation",
        "created_at",
        "published_at",
        "archived_at",
    ],
    retention=Retention("While your teacher account is active, or until you delete the course"),
)
register(
    CourseItem,
    category="Course content",
    purpose="The announcements, materials, assignments, notes and sessions of your courses",
    owner="course__teacher",
    dated_by="created_at",
    fields=[
        "course_id",
        "kind",
        "title",
        "body",
        "position",
        "published",
        "due_at",
        "points",
        "starts_at",
        "duration_minutes",
        "meeting_url",
        "url",
        "created_at",
    ],
    retention=Retention("While the course exists"),
)
register(
    Enrollment,
    category="Enrolments",
    purpose="Which courses you take, since when, and your last visit (to show what's new)",
    owner="student",
    dated_by="enrolled_at",
    fields=["course_id", "status", "enrolled_at", "ended_at", "last_visited_at"],
    retention=Retention(_WHILE_COURSE),
)
register(
    WaitlistEntry,
    category="Waitlist places",
    purpose="Your place in line for a seat in a full course",
    owner="student",
    dated_by="joined_at",
    fields=["course_id", "joined_at"],
    retention=Retention("Until you get a seat, leave the waitlist, or the course is deleted"),
)
register(
    Submission,
    category="Submissions and grades",
    purpose="The work you hand in, its grade and your teacher's feedback",
    owner="student",
    dated_by="submitted_at",
    fields=[
        "item_id",
        "text",
        "submitted_at",
        "attempts",
        "is_late",
        "points_awarded",
        "feedback",
        "graded_at",
        "returned_at",
    ],
    retention=Retention(_WHILE_COURSE),
)
register(
    Attendance,
    category="Attendance",
    purpose="Whether you attended each live session of your courses",
    owner="student",
    dated_by="marked_at",
    fields=["item_id", "status", "marked_at"],
    retention=Retention(_WHILE_COURSE),
)
register(
    PersonalEvent,
    category="Calendar events",
    purpose="Events you add to your own calendar",
    owner="owner",
    dated_by="created_at",
    fields=["title", "starts_at", "ends_at", "notes", "created_at"],
    retention=Retention("Until you delete them or your account"),
)
register(
    CalendarFeed,
    category="Calendar feed address",
    purpose="The private address your calendar app uses to fetch your Lectern events",
    owner="owner",
    dated_by="created_at",
    fields=["created_at"],
    retention=Retention("Until you regenerate it or delete your account"),
)
deletion_warnings(_teaching_warnings)
