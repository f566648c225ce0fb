"""Creating, publishing and archiving courses, and the teacher's public page address.

The dashboards' reads live here too, each one a fixed number of queries
however many courses, students or items there are.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from accounts import services as account_services
from accounts.models import User
from courses.models import Course, CourseItem, Enrollment, ItemKind, Submission, Visibility
from courses.services import enrolment
from files import services as files
from files.models import StoredFile

HANDLE_MAX = 40
_RESERVED_HANDLES = frozenset({"new", "admin", "settings"})


# --- Writing ---------------------------------------------------------------------------------


def _slug_taken_error(slug: str) -> ValidationError:
    return ValidationError(
        {"slug": f"The address /c/{slug}/ is already taken by another course. Choose another."}
    )


def _save_new(course: Course) -> None:
    """Insert `course`; a slug taken a moment ago by someone else is a form error."""
    try:
        with transaction.atomic():
            course.save()
    except IntegrityError as exc:
        if Course.objects.filter(slug=course.slug).exists():
            raise _slug_taken_error(course.slug) from exc
        raise


def concrete_user(user: User) -> User:
    """Return `user` itself, not the lazy stand-in a request carries (uploads lock its row)."""
    return user if type(user) is User else User.objects.get(pk=user.pk)


def _attach_cover(course: Course, upload: UploadedFile, by: User) -> None:
    """Store `upload` as the course's cover and drop the old one."""
    old = course.cover
    course.cover = files.store_upload(
        uploaded_by=concrete_user(by), course=course, upload=upload, purpose="cover"
    )
    if old is not None:
        files.delete_files([old])


def _check_publishable(course: Course) -> None:
    missing = []
    if not course.title.strip():
        missing.append("a title")
    if not course.description.strip():
        missing.append("a description")
    if missing:
        raise ValidationError(
            f"Add {' and '.join(missing)} before publishing: visitors see them first.",
            code="not_ready",
        )


@transaction.atomic
def create_course(
    *, teacher: User, fields: dict[str, Any], cover_upload: UploadedFile | None = None
) -> Course:
    """Create a course for `teacher`; a non-draft visibility publishes it at once.

    Raise ValidationError (by field where it can) when the slug was just taken or
    the cover upload is refused; nothing is stored then.
    """
    course = Course(teacher=teacher, **fields)
    if course.visibility != Visibility.DRAFT:
        _check_publishable(course)
        course.published_at = timezone.now()
    _save_new(course)
    if cover_upload is not None:
        _attach_cover(course, cover_upload, teacher)
        course.save(update_fields=["cover", "updated_at"])
    if course.visibility != Visibility.DRAFT:
        ensure_teacher_handle(teacher=teacher)
    return course


@transaction.atomic
def update_course(
    *,
    course: Course,
    fields: dict[str, Any],
    cover_upload: UploadedFile | None = None,
    remove_cover: bool = False,
) -> Course:
    """Save the changed details of `course` and its cover; a first publication is dated.

    Raise ValidationError when the slug was just taken or the cover is refused;
    nothing is stored then.
    """
    for name, value in fields.items():
        setattr(course, name, value)
    changed = list(fields)
    going_live = course.visibility != Visibility.DRAFT
    if going_live:
        _check_publishable(course)
        if course.published_at is None:
            course.published_at = timezone.now()
            changed.append("published_at")
    try:
        with transaction.atomic():
            course.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        slug_taken = Course.objects.filter(slug=course.slug).exclude(pk=course.pk).exists()
        if "slug" in fields and slug_taken:
            raise _slug_taken_error(course.slug) from exc
        raise
    # The file is stored last: a refused upload rolls back the rows above with it.
    if cover_upload is not None:
        _attach_cover(course, cover_upload, course.teacher)
        course.save(update_fields=["cover", "updated_at"])
    elif remove_cover and course.cover is not None:
        files.delete_files([course.cover])
        course.cover = None
        course.save(update_fields=["cover", "updated_at"])
    if going_live:
        ensure_teacher_handle(teacher=course.teacher)
    if "capacity" in fields:
        # More seats (or none to count) let the waitlist in, in the order people joined.
        enrolment.promote_waitlist(course=course)
    return course


@transaction.atomic
def delete_course(*, course: Course) -> None:
    """Delete a course with everything in it: items, enrolments, work and stored files.

    Rows go through database cascades; the files' contents are removed from
    storage once the deletion has committed.
    """
    files.delete_files(StoredFile.objects.filter(course=course))
    course.delete()


@transaction.atomic
def publish_course(*, course: Course, visibility: str = Visibility.PUBLIC) -> Course:
    """Make a course public or unlisted. Raise ValidationError when it lacks a title or text."""
    if visibility not in (Visibility.PUBLIC, Visibility.UNLISTED):
        raise ValueError(f"Can't publish as {visibility!r}.")
    _check_publishable(course)
    course.visibility = visibility
    changed = ["visibility", "updated_at"]
    if course.published_at is None:
        course.published_at = timezone.now()
        changed.append("published_at")
    course.save(update_fields=changed)
    ensure_teacher_handle(teacher=course.teacher)
    return course


@transaction.atomic
def unpublish_course(*, course: Course) -> Course:
    """Take a course back to draft: its page answers 404 to everyone but its teacher."""
    course.visibility = Visibility.DRAFT
    course.save(update_fields=["visibility", "updated_at"])
    return course


@transaction.atomic
def archive_course(*, course: Course) -> Course:
    """Archive a finished course: it leaves every listing and its public page closes."""
    if course.archived_at is None:
        course.archived_at = timezone.now()
        course.save(update_fields=["archived_at", "updated_at"])
    return course


@transaction.atomic
def restore_course(*, course: Course) -> Course:
    """Bring an archived course back with the visibility it had."""
    if course.archived_at is not None:
        course.archived_at = None
        course.save(update_fields=["archived_at", "updated_at"])
    return course


def suggest_handle(teacher: User) -> str:
    source = teacher.organisation_name or f"{teacher.first_name} {teacher.last_name}".strip()
    source = source or teacher.email.split("@", 1)[0]
    base = (slugify(source) or "teacher")[: HANDLE_MAX - 4].strip("-") or "teacher"
    return f"{base}-page" if base in _RESERVED_HANDLES else base


def ensure_teacher_handle(*, teacher: User) -> str:
    """Give `teacher` a public page address made from their organisation or name if they have none.

    Two teachers publishing at once may reach for the same address; the unique
    constraint decides and the loser tries the next number.
    """
    if teacher.handle:
        return teacher.handle
    base = suggest_handle(teacher)
    taken = set(User.objects.filter(handle__startswith=base).values_list("handle", flat=True))
    n = 1
    while True:
        candidate = base if n == 1 else f"{base}-{n}"
        n += 1
        if candidate in taken:
            continue
        try:
            with transaction.atomic():
                account_services.update_user(user=teacher, fields={"handle": candidate})
        except IntegrityError:
            teacher.handle = None
            continue
        return candidate


@transaction.atomic
def set_teacher_handle(*, teacher: User, handle: str) -> None:
    """Change the address of the teacher's public page. Raise ValidationError when taken."""
    try:
        with transaction.atomic():
            account_services.update_user(user=teacher, fields={"handle": handle})
    except IntegrityError as exc:
        teacher.refresh_from_db(fields=["handle"])
        raise ValidationError(
            {"handle": f"The address /t/{handle}/ is already taken. Choose another."}
        ) from exc


# --- Reading: dashboards ---------------------------------------------------------------------


def _count(queryset: QuerySet[Any], group_by: str) -> Subquery:
    """Return a correlated subquery counting `queryset`'s rows for the outer row."""
    return Subquery(
        queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")[:1],
        output_field=IntegerField(),
    )


def courses_for_teacher(teacher: User) -> QuerySet[Course]:
    """Return `teacher`'s courses with their seats taken, ungraded work and next session.

    One query, whatever the number of courses, students or submissions.
    """
    now = timezone.now()
    next_session = CourseItem.objects.filter(
        course=OuterRef("pk"), kind=ItemKind.SESSION, starts_at__gte=now
    ).order_by("starts_at", "pk")
    active = Enrollment.objects.filter(course=OuterRef("pk"), status=Enrollment.Status.ACTIVE)
    ungraded = Submission.objects.filter(item__course=OuterRef("pk"), graded_at__isnull=True)
    return (
        Course.objects.filter(teacher=teacher)
        .annotate(
            enrolled=Coalesce(_count(active, "course"), 0),
            ungraded=Coalesce(_count(ungraded, "item__course"), 0),
            next_session_at=Subquery(next_session.values("starts_at")[:1]),
            next_session_title=Subquery(next_session.values("title")[:1]),
        )
        .order_by("-created_at", "-pk")
    )


def featured_courses(limit: int = 6) -> list[Course]:
    """Return public courses that haven't ended, to feature on the landing page."""
    today = timezone.localdate()
    return list(
        Course.objects.listed()
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("teacher")
        .order_by(F("starts_on").asc(nulls_last=True), "-published_at", "pk")[:limit]
    )
