"""Attendance: who came to each session, marked by the course's teacher or filled from the room.

Reads load a whole sheet or course in a fixed number of queries; each write
upserts every row of a sheet in a single statement keyed on (item, student),
so saving a class of 1,000 is as quick as saving a class of 10.

A live session's sheet is filled from each student's time in the room
(`fill_from_live`, source LIVE); whatever the teacher marks by hand is source
TEACHER and wins: a later fill never changes its status.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from courses.models import (
    Attendance,
    AttendanceSource,
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


class Mark(NamedTuple):
    """A student's recorded attendance at one session, and where it came from."""

    status: str
    source: str
    live_minutes: int | None

    @property
    def from_live(self) -> bool:
        return self.source == AttendanceSource.LIVE


def marks_for(item: CourseItem) -> dict[int, Mark]:
    """Return each student's mark for a session, by student id."""
    return {
        student_id: Mark(status, source, live_minutes)
        for student_id, status, source, live_minutes in Attendance.objects.filter(
            item=item
        ).values_list("student_id", "status", "source", "live_minutes")
    }


@transaction.atomic
def record_attendance(*, item: CourseItem, marked_by: Any, statuses: Mapping[int, str]) -> int:
    """Store `statuses` (student id → status) for a session; return how many rows changed.

    Students who are not actively enrolled in the course are skipped: a sheet
    opened before someone left must not mark them. Unchanged rows keep the time
    and person of their last marking, and where it came from; a changed row is
    the teacher's from now on (source TEACHER), which filling from the live
    room never overrides.
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
            item=item,
            student_id=student_id,
            status=status,
            source=AttendanceSource.TEACHER,
            marked_at=now,
            marked_by=marked_by,
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
            update_fields=["status", "source", "marked_at", "marked_by"],
        )
    return len(rows)


# --- Filling a live session's sheet -------------------------------------------------------


def live_status(
    item: CourseItem, first_joined_at: datetime | None, seconds: int, duration_seconds: int | None
) -> str:
    """Return what `seconds` in the room, first joined at `first_joined_at`, make a student.

    Absent: never joined, or in the room for less than the course's
    `present_min_percent` of the session. Late: first joined more than
    `late_after_minutes` after the start. Otherwise present.
    """
    course = item.course
    if first_joined_at is None:
        return AttendanceStatus.ABSENT
    if duration_seconds and seconds * 100 < course.present_min_percent * duration_seconds:
        return AttendanceStatus.ABSENT
    assert item.starts_at is not None
    if first_joined_at > item.starts_at + timedelta(minutes=course.late_after_minutes):
        return AttendanceStatus.LATE
    return AttendanceStatus.PRESENT


_FILL_COLUMNS = ("item_id", "student_id", "status", "source", "live_minutes", "marked_at")


@transaction.atomic
def fill_from_live(
    item: CourseItem,
    minutes_by_student: Mapping[int, tuple[datetime, int]],
    *,
    held_seconds: int | None = None,
) -> int:
    """Mark every actively enrolled student from their time in the live room; return rows written.

    `minutes_by_student` maps a student id to (first joined at, seconds in the
    room); a student missing from it never joined. The session's length is its
    planned duration, or `held_seconds` (how long the room ran) without one.
    Safe to run again with new figures: rows it wrote are recomputed, while a
    row the teacher marked keeps its status and only learns the minutes. Two
    statements: the enrolled students, then one upsert.
    """
    if item.kind != ItemKind.SESSION:
        raise ValueError("Attendance is only taken for sessions.")
    duration = item.duration_minutes * 60 if item.duration_minutes else held_seconds
    students = Enrollment.objects.filter(
        course_id=item.course_id, status=Enrollment.Status.ACTIVE
    ).values_list("student_id", flat=True)
    now = Attendance._meta.get_field("marked_at").get_db_prep_save(timezone.now(), connection)
    live = AttendanceSource.LIVE.value
    rows = []
    for student_id in students:
        first_joined_at, seconds = minutes_by_student.get(student_id, (None, 0))
        status = live_status(item, first_joined_at, seconds, duration)
        rows.append((item.pk, student_id, str(status), live, round(seconds / 60), now))
    if not rows:
        return 0
    written = 0
    per_statement = len(rows)
    if connection.features.max_query_params:  # SQLite: a bounded number of parameters
        per_statement = max(1, connection.features.max_query_params // len(_FILL_COLUMNS))
    for start in range(0, len(rows), per_statement):
        written += _upsert_live_rows(rows[start : start + per_statement])
    return written


def _upsert_live_rows(rows: list[tuple[Any, ...]]) -> int:
    """INSERT the rows, or update those already there: all of a LIVE row, a TEACHER row's minutes.

    The condition sits in the statement itself, so a teacher saving the sheet
    at the same moment is never overwritten, whichever commits first.
    """
    table = connection.ops.quote_name(Attendance._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _FILL_COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_FILL_COLUMNS)) + ")"
    live = AttendanceSource.LIVE.value
    # Only the model's own table and column names are put in the SQL; values are parameters.
    sql = f"""
        INSERT INTO {table} ({columns}) VALUES {", ".join([row] * len(rows))}
        ON CONFLICT (item_id, student_id) DO UPDATE SET
            status = CASE WHEN {table}.source = '{live}' THEN excluded.status
                          ELSE {table}.status END,
            marked_at = CASE WHEN {table}.source = '{live}' THEN excluded.marked_at
                             ELSE {table}.marked_at END,
            marked_by_id = CASE WHEN {table}.source = '{live}' THEN NULL
                                ELSE {table}.marked_by_id END,
            live_minutes = excluded.live_minutes
        WHERE {table}.live_minutes IS NULL
           OR {table}.live_minutes <> excluded.live_minutes
           OR ({table}.source = '{live}' AND {table}.status <> excluded.status)
    """  # noqa: S608  # nosec B608
    params = [value for values in rows for value in values]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


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
