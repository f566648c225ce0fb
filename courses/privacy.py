"""What courses hold about people.

Course content is the teacher's: it is kept while the teacher's account is
active, and deleting a course removes its items, files, submissions,
attendance and enrolments with it (database cascades; stored files through
`services.files.delete_files`).
"""

from typing import Any

from accounts.models import User
from courses.models import (
    Attendance,
    CalendarFeed,
    Course,
    CourseItem,
    Enrollment,
    PersonalEvent,
    StoredFile,
    Submission,
    WaitlistEntry,
)
from privacy.registry import Retention, register

_WHILE_COURSE = "While the course exists; deleting the course or your account removes it"


def _erase_files(user: Any) -> int:
    from courses.services import files

    return files.erase_files(StoredFile.objects.filter(uploaded_by=user))


def _erase_courses(teacher: Any) -> int:
    """Tell each course's students it has closed, then delete it with everything in it.

    The notification carries no course link (it would be deleted with the
    course) and does not name the teacher, whose name is being erased.
    """
    from courses.services import files
    from notifications import services as notifications
    from notifications.models import Kind

    count = 0
    for course in Course.objects.filter(teacher=teacher).order_by("pk"):
        students = set(
            Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).values_list(
                "student_id", flat=True
            )
        ) | set(WaitlistEntry.objects.filter(course=course).values_list("student_id", flat=True))
        for student in User.objects.filter(pk__in=students, is_active=True).order_by("pk"):
            notifications.notify(
                recipient=student,
                kind=Kind.ENROLMENT,
                title=f"{course.title} has closed"[:200],
                body=f"The teacher of {course.title} has left Lectern, so the course and "
                "everything in it has been deleted.",
                dedupe_key=f"course-closed:{course.pk}",
            )
        files.erase_files(StoredFile.objects.filter(course=course))
        course.delete()
        count += 1
    return count


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
    purpose=(
        "Which courses you take, since when, and your last visit (to show what's new); "
        "a seat held for you while you confirm your address or pay, and until when"
    ),
    owner="student",
    dated_by="enrolled_at",
    fields=[
        "course_id",
        "status",
        "enrolled_at",
        "ended_at",
        "last_visited_at",
        "hold_reason",
        "hold_expires_at",
    ],
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
    StoredFile,
    category="Uploaded files",
    purpose="Files you upload: course materials, cover images and work you submit",
    owner="uploaded_by",
    dated_by="created_at",
    fields=["course_id", "original_name", "content_type", "size", "created_at"],
    eraser=_erase_files,
    erasure_note="Deleted from storage, the work you handed in included",
    retention=Retention(_WHILE_COURSE),
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
