"""Submissions, grading and gradebooks.

A student has one submission per assignment. Re-submitting replaces the text;
new files replace the old ones, and sending no new file keeps them. Each
re-submission counts an attempt and puts the work back in the grading queue.
Once the teacher returns a grade the work is closed. Grades stay hidden from
the student until returned; saving a returned grade without returning it again
hides it until it is.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from courses import events
from courses.models import CourseItem, ItemKind, LatePolicy, Submission
from courses.models.course import Course
from files import services as files
from files.models import StoredFile

MAX_FILES_PER_SUBMISSION = 10
MAX_ANSWER_CHARS = 50_000


def submission_closed_reason(
    item: CourseItem, submission: Submission | None, now: datetime | None = None
) -> str:
    """Return why a student can't submit to `item` now, or "" when they can."""
    now = now or timezone.now()
    if item.kind != ItemKind.ASSIGNMENT or not item.published:
        return "This item doesn't take submissions."
    if submission is not None and submission.returned_at is not None:
        return "Your teacher has returned a grade for this work, so it is closed."
    if item.due_at is not None and now > item.due_at and item.late_policy == LatePolicy.REFUSE:
        return "The deadline has passed and this assignment doesn't accept late work."
    return ""


def submit_box_context(*, item: CourseItem, student: Any) -> dict[str, Any]:
    """Return what `courses/work/_submit_box.html` needs for `student` on `item`."""
    submission = (
        Submission.objects.filter(item=item, student_id=student.pk)
        .prefetch_related("files")
        .first()
    )
    reason = submission_closed_reason(item, submission)
    return {
        "item": item,
        "course": item.course,
        "submission": submission,
        "can_submit": not reason,
        "closed_reason": reason,
    }


def submit_work(
    *, item: CourseItem, student: Any, text: str, uploads: Sequence[UploadedFile]
) -> Submission:
    """Store a student's work on an assignment, or replace what they sent before.

    Raise ValidationError when the assignment is closed to them or nothing was sent.
    """
    now = timezone.now()
    text = text.strip()
    if len(uploads) > MAX_FILES_PER_SUBMISSION:
        raise ValidationError(f"Attach at most {MAX_FILES_PER_SUBMISSION} files.")
    if len(text) > MAX_ANSWER_CHARS:
        raise ValidationError(f"Keep your answer under {MAX_ANSWER_CHARS:,} characters.")
    stored: list[StoredFile] = []
    try:
        with transaction.atomic():
            submission = _lock_submission(item, student)
            reason = submission_closed_reason(item, submission, now)
            if reason:
                raise ValidationError(reason)
            keeps_files = submission is not None and not uploads and submission.files.exists()
            if not text and not uploads and not keeps_files:
                raise ValidationError("Write an answer or attach at least one file.")
            for upload in uploads:
                stored.append(
                    files.store_upload(
                        uploaded_by=student, course=item.course, upload=upload, purpose="submission"
                    )
                )
            is_late = item.due_at is not None and now > item.due_at
            if submission is None:
                submission = _create_submission(item, student, text, now, is_late)
            else:
                submission.text = text
                submission.submitted_at = now
                submission.is_late = is_late
                submission.attempts += 1
                # A new version needs grading again; the draft grade stays for the teacher.
                submission.graded_at = None
                submission.save(
                    update_fields=["text", "submitted_at", "is_late", "attempts", "graded_at"]
                )
                if uploads:
                    files.delete_files(submission.files.all())
            StoredFile.objects.filter(pk__in=[f.pk for f in stored]).update(submission=submission)
    except BaseException:
        # The rows are rolled back; the blobs already written must go too.
        for stored_file in stored:
            if stored_file.blob.name:
                stored_file.blob.storage.delete(stored_file.blob.name)
        raise
    return submission


def _lock_submission(item: CourseItem, student: Any) -> Submission | None:
    return Submission.objects.select_for_update().filter(item=item, student_id=student.pk).first()


def _create_submission(
    item: CourseItem, student: Any, text: str, now: datetime, is_late: bool
) -> Submission:
    try:
        with transaction.atomic():
            return Submission.objects.create(
                item=item, student=student, text=text, submitted_at=now, is_late=is_late
            )
    except IntegrityError:
        # The same student submitted twice at once; the other request got there first.
        raise ValidationError(
            "Your work was just submitted from another window; reload the page and try again."
        ) from None


def grade_submission(
    *,
    submission: Submission,
    grader: Any,
    points: int | None,
    feedback: str,
    return_to_student: bool,
) -> Submission:
    """Record points and feedback; show them to the student when `return_to_student`."""
    maximum = submission.item.points
    if maximum is not None:
        if points is None:
            raise ValidationError("Give the points for this work.")
        if not 0 <= points <= maximum:
            raise ValidationError(f"Points must be between 0 and {maximum}.")
    elif points is not None and points < 0:
        raise ValidationError("Points can't be negative.")
    now = timezone.now()
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        locked.points_awarded = points
        locked.feedback = feedback.strip()
        locked.graded_at = now
        locked.graded_by = grader
        locked.returned_at = now if return_to_student else None
        locked.save(
            update_fields=["points_awarded", "feedback", "graded_at", "graded_by", "returned_at"]
        )
        if return_to_student:
            events.emit(events.GradeReturned(locked.pk))
    submission.points_awarded = locked.points_awarded
    submission.feedback = locked.feedback
    submission.graded_at = locked.graded_at
    submission.graded_by = grader
    submission.returned_at = locked.returned_at
    return submission


# --- Reading: gradebooks ------------------------------------------------------


@dataclass
class GradeCell:
    item: CourseItem
    submission: Submission | None
    points: int | None  # None: nothing to show (not graded, or not returned to a student)

    @property
    def is_late(self) -> bool:
        return self.submission is not None and self.submission.is_late


@dataclass
class GradeRow:
    student: Any
    cells: list[GradeCell] = field(default_factory=list)
    total: int = 0
    late_count: int = 0


@dataclass
class Gradebook:
    assignments: list[CourseItem]
    rows: list[GradeRow]
    possible: int

    def percent(self, row: GradeRow) -> Decimal | None:
        if not self.possible:
            return None
        value = Decimal(row.total * 100) / Decimal(self.possible)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def gradebook_assignments(course: Course) -> list[CourseItem]:
    """Return the course's published assignments in course order."""
    return list(
        CourseItem.objects.filter(course=course, kind=ItemKind.ASSIGNMENT, published=True).order_by(
            "position", "pk"
        )
    )


def build_gradebook(
    *,
    course: Course,
    students: Iterable[Any],
    returned_only: bool,
    assignments: list[CourseItem] | None = None,
    with_feedback: bool = False,
) -> Gradebook:
    """Build the table of students by assignments in two queries, whatever its size.

    The total counts graded work (only returned work when `returned_only`, as a
    student sees it); the percentage is over every published assignment's points,
    missing work counting as zero.
    """
    students = list(students)
    if assignments is None:
        assignments = gradebook_assignments(course)
    submissions = Submission.objects.filter(item__course=course, item__kind=ItemKind.ASSIGNMENT)
    if len(students) <= 500:
        # A whole-course export skips the list: an IN of thousands of ids costs more than it saves.
        submissions = submissions.filter(student__in=[s.pk for s in students])
    # Answers can be long and a gradebook never shows them; feedback only when asked.
    submissions = (
        submissions.defer("text") if with_feedback else submissions.defer("text", "feedback")
    )
    by_pair = {(s.student_id, s.item_id): s for s in submissions}
    rows = []
    for student in students:
        row = GradeRow(student=student)
        for assignment in assignments:
            submission = by_pair.get((student.pk, assignment.pk))
            points = None
            if submission is not None and submission.graded_at is not None:
                visible = not returned_only or submission.returned_at is not None
                points = submission.points_awarded if visible else None
            row.cells.append(GradeCell(item=assignment, submission=submission, points=points))
            row.total += points or 0
            row.late_count += int(submission is not None and submission.is_late)
        rows.append(row)
    possible = sum(a.points or 0 for a in assignments)
    return Gradebook(assignments=assignments, rows=rows, possible=possible)


def neutralise_csv_cell(value: object) -> str:
    """Return a CSV cell a spreadsheet won't run as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
