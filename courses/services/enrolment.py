"""Enrolment: seats, the waitlist, invitations and leaving a course.

Seats are counted and taken under a lock on the course row. Every write that
changes who holds a seat (enrolling, leaving, removing, promoting from the
waitlist) first locks the course, then counts the active enrolments, then
inserts or updates. Two students racing for the last seat are therefore
serialised: the second one counts the first one's row and is refused. On
PostgreSQL the lock is `SELECT ... FOR UPDATE`; SQLite has no row locks, so
the first statement there is a no-op write, which takes the database's write
lock at once (a later upgrade from a read lock would fail instead of waiting),
and a transaction refused because another writer holds the database is
retried (see `_seat_transaction`).

When a seat frees up, the earliest waiting students are promoted in the same
transaction, and told by email once it commits (the outbox sends every email
queued here, and retries it while the mail service is down).

People a teacher invites, and visitors who register with a name and an email,
get an account without a password and with an unverified address. The
invitation email carries a one-time link (allauth's password-reset token) to
choose a password; following it proves the address, so it is verified then.
"""

import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.db import atomic_with_sqlite_retry
from courses import events
from courses.models import Course, Enrollment, Visibility, WaitlistEntry
from outbox import services as outbox

_seat_transaction = atomic_with_sqlite_retry


class EnrolmentError(Exception):
    """An enrolment that cannot happen; the message says why, for the person asking."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CourseFullError(EnrolmentError):
    pass


class EnrolmentClosedError(EnrolmentError):
    pass


class OwnCourseError(EnrolmentError):
    pass


@dataclass(frozen=True)
class AddResult:
    """What `add_student` and `register_guest` did."""

    enrollment: Enrollment | None
    invited: bool  # a new account was made and an invitation sent
    already_enrolled: bool = False


# --- Reading ---------------------------------------------------------------------------------


def closed_reason(course: Course) -> str:
    """Return why students can't enrol in `course` by themselves, or '' when they can."""
    if course.is_archived:
        return "This course has ended and no longer takes enrolments."
    if course.visibility == Visibility.DRAFT:
        return "This course isn't open for enrolment yet."
    if not course.is_free:
        return "Enrolment opens soon: paid enrolment isn't available yet."
    return ""


def active_count(course: Course) -> int:
    return Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).count()


def seats_left(course: Course, active: int) -> int | None:
    """Return the free seats given `active` enrolments; None means unlimited."""
    if course.capacity is None:
        return None
    return max(0, course.capacity - active)


# --- Students enrolling themselves -------------------------------------------------------------


@_seat_transaction
def enroll_student(*, course: Course, student: User) -> Enrollment:
    """Give `student` a seat in the free, open `course`, or refuse with an EnrolmentError.

    Enrolling again after leaving reactivates the same row; enrolling twice is harmless.
    """
    locked = _lock_course(course)
    if locked.teacher_id == student.pk:
        raise OwnCourseError("You teach this course, so you can't enrol in it.")
    reason = closed_reason(locked)
    if reason:
        raise EnrolmentClosedError(reason)
    _refuse_if_removed(locked, student)
    return _take_seat_and_notify(locked, student)


@_seat_transaction
def join_waitlist(*, course: Course, student: User) -> Enrollment | WaitlistEntry:
    """Put `student` in line for a seat; if one is free after all, enrol them instead."""
    locked = _lock_course(course)
    if locked.teacher_id == student.pk:
        raise OwnCourseError("You teach this course, so you can't join its waitlist.")
    reason = closed_reason(locked)
    if reason:
        raise EnrolmentClosedError(reason)
    enrollment = _active_enrollment(locked, student)
    if enrollment is not None:
        return enrollment
    _refuse_if_removed(locked, student)
    if _has_free_seat(locked):
        return _take_seat_and_notify(locked, student)
    entry, _ = WaitlistEntry.objects.get_or_create(course=locked, student=student)
    return entry


@transaction.atomic
def leave_waitlist(*, course: Course, student: User) -> bool:
    """Take `student` off the waitlist; say whether they were on it."""
    deleted, _ = WaitlistEntry.objects.filter(course=course, student=student).delete()
    return bool(deleted)


@_seat_transaction
def leave_course(*, enrollment: Enrollment) -> list[Enrollment]:
    """End the student's enrolment; promote whoever waits for the freed seat.

    Return the enrolments made by promotion.
    """
    course = _lock_course(enrollment.course)
    updated = Enrollment.objects.filter(pk=enrollment.pk, status=Enrollment.Status.ACTIVE).update(
        status=Enrollment.Status.LEFT, ended_at=timezone.now()
    )
    enrollment.refresh_from_db(fields=["status", "ended_at"])
    return _promote(course) if updated else []


def record_visit(*, enrollment: Enrollment) -> None:
    """Remember when the student last opened the course, for next time's "New" badges."""
    enrollment.last_visited_at = timezone.now()
    enrollment.save(update_fields=["last_visited_at"])


# --- The teacher's roster ------------------------------------------------------------------------


@_seat_transaction
def remove_student(*, course: Course, student: User) -> bool:
    """Remove `student` from `course` (and its waitlist); promote whoever waits.

    Return whether they had a seat.
    """
    locked = _lock_course(course)
    WaitlistEntry.objects.filter(course=locked, student=student).delete()
    updated = Enrollment.objects.filter(
        course=locked, student=student, status=Enrollment.Status.ACTIVE
    ).update(status=Enrollment.Status.REMOVED, ended_at=timezone.now())
    if updated:
        _promote(locked)
    return bool(updated)


@_seat_transaction
def promote_waitlist(*, course: Course) -> list[Enrollment]:
    """Fill free seats from the waitlist in order; call after raising the capacity."""
    return _promote(_lock_course(course))


@_seat_transaction
def add_student(
    *, course: Course, email: str, first_name: str = "", last_name: str = ""
) -> AddResult:
    """Enrol the person with `email` on the teacher's behalf.

    An existing account is enrolled and told by email. An unknown address gets
    a new account (no password, address unverified), a seat, and an
    invitation to choose a password. The teacher may add students to draft
    and paid courses (a free seat they give away), never beyond capacity.
    """
    locked = _lock_course(course)
    if locked.is_archived:
        raise EnrolmentClosedError("This course is archived: it no longer takes students.")
    email = _normalise(email)
    user = find_account(email)
    if user is not None and user.pk == locked.teacher_id:
        raise OwnCourseError("That's your own address: you teach this course.")
    if user is not None and not is_unclaimed(user):
        if _active_enrollment(locked, user) is not None:
            return AddResult(enrollment=None, invited=False, already_enrolled=True)
        enrollment = _take_seat(locked, user)
        _send_added(enrollment)
        events.emit(events.AddedByTeacher(enrollment.pk))
        return AddResult(enrollment=enrollment, invited=False)
    user = user or _create_invited_account(email, first_name, last_name)
    enrollment = _take_seat(locked, user)
    _send_invitation(enrollment)
    events.emit(events.AddedByTeacher(enrollment.pk))
    return AddResult(enrollment=enrollment, invited=True)


# --- Visitors registering on the storefront ------------------------------------------------------


@_seat_transaction
def register_guest(
    *, course: Course, email: str, first_name: str, last_name: str, country: str = ""
) -> AddResult:
    """Register a visitor for a free course with a name and an email address.

    A new address gets an account without a password, a seat and an
    invitation, like a teacher's invitation. An address that already has an
    account is sent a "log in to finish enrolling" email instead: nothing is
    changed, and the caller shows the same page either way, so the form never
    reveals who has an account.
    """
    locked = _lock_course(course)
    reason = closed_reason(locked)
    if reason:
        raise EnrolmentClosedError(reason)
    email = _normalise(email)
    user = find_account(email)
    if user is not None and (not is_unclaimed(user) or user.pk == locked.teacher_id):
        _send_finish_enrolling(locked, email)
        return AddResult(enrollment=None, invited=False)
    user = user or _create_invited_account(email, first_name, last_name, country)
    enrollment = _take_seat(locked, user)
    _send_invitation(enrollment)
    events.emit(events.GuestRegistered(enrollment.pk))
    return AddResult(enrollment=enrollment, invited=True)


def find_account(email: str) -> User | None:
    """Return the account that owns `email` as its login or as one of its addresses."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        address = EmailAddress.objects.filter(email__iexact=email).select_related("user").first()
        user = address.user if address is not None else None
    return user


def is_unclaimed(user: User) -> bool:
    """Say whether `user` is an invited account nobody has taken up yet.

    No password, never logged in and no verified address: people who signed
    in with Google have no password either, but their address is verified.
    """
    return (
        not user.has_usable_password()
        and user.last_login is None
        and not EmailAddress.objects.filter(user=user, verified=True).exists()
    )


@transaction.atomic
def activate_invited_account(*, user: User, password: str) -> None:
    """Set the first password of an invited account and mark its address verified.

    The invitation link was sent to that address, so following it proves it.
    """
    get_adapter().set_password(user, password)
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email).exists():
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)


def invitation_path(user: User, course: Course) -> str:
    """Return the path of a fresh invitation link for `user`, landing on `course`."""
    path = reverse(
        "courses:accept_invite",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return f"{path}?{urlencode({'next': reverse('courses:course', args=[course.slug])})}"


# --- Inside the lock -----------------------------------------------------------------------------


def _lock_course(course: Course) -> Course:
    """Lock the course row for the rest of the transaction and return it fresh."""
    if not connection.features.has_select_for_update:
        Course.objects.filter(pk=course.pk).update(updated_at=F("updated_at"))
    return Course.objects.select_for_update().get(pk=course.pk)


def _active_enrollment(course: Course, student: User) -> Enrollment | None:
    return Enrollment.objects.filter(
        course=course, student=student, status=Enrollment.Status.ACTIVE
    ).first()


def _refuse_if_removed(course: Course, student: User) -> None:
    removed = Enrollment.objects.filter(
        course=course, student=student, status=Enrollment.Status.REMOVED
    ).exists()
    if removed:
        raise EnrolmentClosedError(
            "Your teacher removed you from this course. Ask them if you'd like to rejoin."
        )


def _has_free_seat(course: Course) -> bool:
    return course.capacity is None or active_count(course) < course.capacity


def _take_seat(course: Course, student: User) -> Enrollment:
    """Enrol `student` in the locked `course` if a seat is free; reactivate an old row."""
    existing = Enrollment.objects.filter(course=course, student=student).first()
    if existing is not None and existing.status == Enrollment.Status.ACTIVE:
        return existing
    if not _has_free_seat(course):
        raise CourseFullError("This course is full. Join the waitlist to get the next free seat.")
    if existing is None:
        enrollment = Enrollment.objects.create(course=course, student=student)
    else:
        enrollment = existing
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.enrolled_at = timezone.now()
        enrollment.ended_at = None
        enrollment.save(update_fields=["status", "enrolled_at", "ended_at"])
    WaitlistEntry.objects.filter(course=course, student=student).delete()
    return enrollment


def _take_seat_and_notify(course: Course, student: User) -> Enrollment:
    """Take a seat for a student enrolling themselves; confirm it to them and tell the teacher."""
    enrollment = _take_seat(course, student)
    events.emit(events.Enrolled(enrollment.pk))
    return enrollment


def _promote(course: Course) -> list[Enrollment]:
    """Give free seats of the locked `course` to the earliest waiting students."""
    if closed_reason(course):
        return []
    promoted: list[Enrollment] = []
    for entry in WaitlistEntry.objects.filter(course=course).select_related("student"):
        if not entry.student.is_active or _active_enrollment(course, entry.student):
            entry.delete()
            continue
        if not _has_free_seat(course):
            break
        enrollment = _take_seat(course, entry.student)
        promoted.append(enrollment)
        _send_promoted(enrollment)
        events.emit(events.PromotedFromWaitlist(enrollment.pk))
    return promoted


def _create_invited_account(email: str, first_name: str, last_name: str, country: str = "") -> User:
    """Create an account with no password and an unverified address."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=None,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                is_student=True,
                country=country,
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    except IntegrityError:
        # Someone registered the same address a moment ago, for another course.
        existing = find_account(email)
        if existing is None:
            raise
        return existing
    return user


def _normalise(email: str) -> str:
    return email.strip().lower()


# --- Emails: rendered in the transaction, sent by the outbox once it commits ---------------------


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _mail(key: str, template_prefix: str, to: str, context: dict[str, Any]) -> None:
    site = SimpleNamespace(domain=urlsplit(settings.SITE_URL).netloc, name=settings.SITE_NAME)
    message = get_adapter().render_mail(template_prefix, to, {"current_site": site, **context})
    outbox.enqueue_email(key=key, message=message)


def _seat_key(kind: str, enrollment: Enrollment) -> str:
    # Re-enrolling reuses the row with a new `enrolled_at`, so each seat taken gets its own email.
    return f"enrolment-{kind}:{enrollment.pk}:{enrollment.enrolled_at.isoformat()}"


def _send_invitation(enrollment: Enrollment) -> None:
    course, student = enrollment.course, enrollment.student
    # Registering again asks for a fresh invitation to the same seat: each request is its own.
    _mail(
        f"{_seat_key('invitation', enrollment)}:{uuid.uuid4().hex}",
        "account/email/course_invite",
        student.email,
        {
            "user": student,
            "course": course,
            "teacher": course.teacher,
            "invite_url": _absolute(invitation_path(student, course)),
            "storefront_url": _absolute(course.get_absolute_url()),
        },
    )


def _send_added(enrollment: Enrollment) -> None:
    course = enrollment.course
    _mail(
        _seat_key("added", enrollment),
        "courses/enrolment/email/added",
        enrollment.student.email,
        {
            "user": enrollment.student,
            "course": course,
            "teacher": course.teacher,
            "course_url": _absolute(reverse("courses:course", args=[course.slug])),
        },
    )


def _send_promoted(enrollment: Enrollment) -> None:
    course = enrollment.course
    _mail(
        _seat_key("promoted", enrollment),
        "courses/enrolment/email/promoted",
        enrollment.student.email,
        {
            "user": enrollment.student,
            "course": course,
            "teacher": course.teacher,
            "course_url": _absolute(reverse("courses:course", args=[course.slug])),
        },
    )


def _send_finish_enrolling(course: Course, email: str) -> None:
    # No row records this registration: one reminder per course, address and hour is plenty.
    hour = timezone.now().strftime("%Y%m%d%H")
    enrol_path = reverse("courses:enroll", args=[course.slug])
    login_url = _absolute(f"{reverse('account_login')}?{urlencode({'next': enrol_path})}")
    _mail(
        f"finish-enrolling:{course.pk}:{email}:{hour}",
        "courses/enrolment/email/finish_enrolling",
        email,
        {"course": course, "teacher": course.teacher, "login_url": login_url},
    )
