"""Attendance: who came to each session, marked by the course's teacher.

Reads load a whole sheet or course in a fixed number of queries; the one write
upserts every changed row of a sheet in a single statement keyed on
(item, student), so saving a class of 1,000 is as quick as saving a class of 10.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from courses.models import (
    Attendance,
    AttendanceStatus,
    Course,
    CourseItem,
    Enrollment,
    ItemKind,
)

STATUSES = [AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.ABSENT]


def active_enrollments(course: Course) -> list[Enrollment]:
    """Return the course's active enrolments with their students, by name."""
    return list(
        Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE)
        .select_related("student")
        .order_by("student__last_name", "student__first_name", "student__email", "pk")
    )


def statuses_for(item: CourseItem) -> dict[int, str]:
    """Return the recorded status of each student for a session, by student id."""
    return dict(Attendance.objects.filter(item=item).values_list("student_id", "status"))


@transaction.atomic
def record_attendance(*, item: CourseItem, marked_by: Any, statuses: Mapping[int, str]) -> int:
    """Store `statuses` (student id → status) for a session; return how many rows changed.

    Students who are not actively enrolled in the course are skipped: a sheet
    opened before someone left must not mark them. Unchanged rows keep the time
    and person of their last marking.
    """
    if item.kind != ItemKind.SESSION:
        raise ValueError("Attendance is only taken for sessions.")
    unknown = set(statuses.values()) - set(AttendanceStatus.values)
    if unknown:
        raise ValueError(f"Unknown attendance status: {sorted(unknown)}")
    enrolled = set(
        Enrollment.objects.filter(
            course_id=item.course_id,
            status=Enrollment.Status.ACTIVE,
            student_id__in=list(statuses),
        ).values_list("student_id", flat=True)
    )
    current = dict(
        Attendance.objects.filter(item=item, student_id__in=enrolled).values_list(
            "student_id", "status"
        )
    )
    now = timezone.now()
    rows = [
        Attendance(
            item=item, student_id=student_id, status=status, marked_at=now, marked_by=marked_by
        )
        for student_id, status in statuses.items()
        if student_id in enrolled and current.get(student_id) != status
    ]
    if rows:
        # One INSERT … ON CONFLICT DO UPDATE: concurrent saves of the same sheet
        # never trip over the unique (item, student) constraint.
        Attendance.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["item", "student"],
            update_fields=["status", "marked_at", "marked_by"],
        )
    return len(rows)


# --- The course overview ------------------------------------------------------------------


@dataclass
class Tally:
    present: int = 0
    late: int = 0
    absent: int = 0

    def add(self, status: str | None) -> None:
        if status == AttendanceStatus.PRESENT:
            self.present += 1
        elif status == AttendanceStatus.LATE:
            self.late += 1
        elif status == AttendanceStatus.ABSENT:
            self.absent += 1

    @property
    def marked(self) -> int:
        return self.present + self.late + self.absent

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def rate(self) -> int | None:
        """Return the share of marked sessions attended (late counts), in whole percent."""
        if not self.marked:
            return None
        return round(100 * self.attended / self.marked)


@dataclass
class StudentRow:
    student: Any
    cells: list[str | None]
    tally: Tally = field(default_factory=Tally)


@dataclass
class Overview:
    sessions: list[CourseItem]
    rows: list[StudentRow]
    session_tallies: list[Tally]
    total: Tally

    @property
    def sessions_marked(self) -> int:
        return sum(1 for tally in self.session_tallies if tally.marked)


def sessions_of(course: Course, *, published_only: bool = False) -> list[CourseItem]:
    """Return a course's sessions in the order they happen."""
    items = CourseItem.objects.filter(course=course, kind=ItemKind.SESSION)
    if published_only:
        items = items.visible_to_students()
    return list(
        items.only(
            "course_id", "kind", "title", "starts_at", "duration_minutes", "published"
        ).order_by("starts_at", "pk")
    )


def course_overview(course: Course) -> Overview:
    """Return every active student by every session of a course, with totals."""
    sessions = sessions_of(course)
    enrollments = active_enrollments(course)
    marks: dict[tuple[int, int], str] = {
        (student_id, item_id): status
        for student_id, item_id, status in Attendance.objects.filter(
            item__course=course, item__kind=ItemKind.SESSION
        ).values_list("student_id", "item_id", "status")
    }
    session_tallies = [Tally() for _ in sessions]
    total = Tally()
    rows = []
    for enrollment in enrollments:
        student = enrollment.student
        row = StudentRow(student=student, cells=[])
        for index, session in enumerate(sessions):
            status = marks.get((student.pk, session.pk))
            row.cells.append(status)
            row.tally.add(status)
            session_tallies[index].add(status)
            total.add(status)
        rows.append(row)
    return Overview(sessions=sessions, rows=rows, session_tallies=session_tallies, total=total)


@dataclass
class OwnSession:
    session: CourseItem
    status: str | None


def own_attendance(course: Course, student: Any) -> tuple[list[OwnSession], Tally]:
    """Return a student's status at each published session of a course, and the totals."""
    sessions = sessions_of(course, published_only=True)
    marks = dict(
        Attendance.objects.filter(
            student_id=student.pk, item__course=course, item__kind=ItemKind.SESSION
        ).values_list("item_id", "status")
    )
    tally = Tally()
    rows = []
    for session in sessions:
        status = marks.get(session.pk)
        tally.add(status)
        rows.append(OwnSession(session=session, status=status))
    return rows, tally
