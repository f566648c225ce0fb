"""Who may see what: one loader per kind of object, checking rights as it loads.

Each helper raises Http404 for an object the person may not reach, whether it
exists or not, so another teacher's course or another student's submission is
indistinguishable from a missing one.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from courses.models import Course, CourseItem, Enrollment, Submission, Visibility
from files.models import StoredFile


def get_course_for_teacher(
    user: Any, slug: str, queryset: QuerySet[Course] | None = None
) -> Course:
    """Return the course `slug` if `user` teaches it."""
    qs = queryset if queryset is not None else Course.objects.all()
    return get_object_or_404(qs, slug=slug, teacher_id=user.pk)


def get_enrollment(user: Any, course: Course) -> Enrollment | None:
    """Return `user`'s active enrolment in `course`, if any."""
    return Enrollment.objects.filter(
        course=course, student_id=user.pk, status=Enrollment.Status.ACTIVE
    ).first()


def get_course_for_member(user: Any, slug: str) -> tuple[Course, Enrollment | None]:
    """Return the course `slug` for its teacher or an actively enrolled student.

    The enrolment is None for the teacher.
    """
    course = get_object_or_404(Course.objects.select_related("teacher"), slug=slug)
    if course.teacher_id == user.pk:
        return course, None
    enrollment = get_enrollment(user, course)
    if enrollment is None:
        raise Http404
    return course, enrollment


def get_item_for_teacher(user: Any, slug: str, item_id: int) -> CourseItem:
    return get_object_or_404(
        CourseItem.objects.select_related("course"),
        pk=item_id,
        course__slug=slug,
        course__teacher_id=user.pk,
    )


def get_item_for_member(user: Any, slug: str, item_id: int) -> tuple[CourseItem, Enrollment | None]:
    """Return an item its teacher may see, or a student enrolled in its course may see."""
    course, enrollment = get_course_for_member(user, slug)
    items = CourseItem.objects.filter(course=course)
    if enrollment is not None:
        items = items.visible_to_students()
    item = get_object_or_404(items, pk=item_id)
    item.course = course
    return item, enrollment


def get_submission_for_teacher(user: Any, submission_id: int) -> Submission:
    return get_object_or_404(
        Submission.objects.select_related("item__course", "student"),
        pk=submission_id,
        item__course__teacher_id=user.pk,
    )


def is_public_cover(stored: StoredFile) -> bool:
    """Say whether the file is the cover of a course anyone may open by link."""
    course = stored.course
    return (
        course is not None
        and course.cover_id == stored.pk
        and stored.submission_id is None
        and course.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
        and course.archived_at is None
    )


def may_download_course_file(user: Any, stored: StoredFile) -> bool | None:
    """Say whether `user` may download a course's file; None for a file of no course.

    The course's teacher may download all its files; a submission's files are
    for the submitting student and the teacher only; an enrolled student may
    download files of published items and the cover; anyone may see the cover
    of a course reachable by link, since the storefront shows it.
    """
    signed_in = bool(user.is_authenticated)
    if stored.submission_id is not None:
        submission = stored.submission
        assert submission is not None
        return signed_in and user.pk in (submission.student_id, submission.item.course.teacher_id)
    if signed_in and stored.uploaded_by_id == user.pk:
        return True
    course = stored.course
    if course is None:
        return None
    if is_public_cover(stored):
        return True
    if not signed_in:
        return False
    if course.teacher_id == user.pk:
        return True
    if get_enrollment(user, course) is None:
        return False
    if course.cover_id == stored.pk:
        return True
    return CourseItem.objects.visible_to_students().filter(course=course, file=stored).exists()
