"""Holds: a seat kept for a payment in progress, or for an address still to be confirmed.

Holding a seat, confirming it as an enrolment, releasing it, and the periodic
sweep that records lapsed holds as released. The states, the course lock and
the seat counting are `courses.services.enrolment`'s (its docstring explains
them); a hold is taken and confirmed under the same lock.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from courses import enrolment_policy as policy
from courses import events
from courses.models import Course, Enrollment, WaitlistEntry
from courses.services.enrolment import (
    CourseFullError,
    EnrolmentClosedError,
    IllegalTransitionError,
    OwnCourseError,
    _hold,
    _holds_unexpired,
    _lock_and_decide,
    _lock_course,
    _make_room,
    _move,
    _promote,
    _refuse_move,
    _refuse_unless_seat,
    _seat_transaction,
)

Status = Enrollment.Status
HoldReason = Enrollment.HoldReason


@_seat_transaction
def hold_seat(
    *,
    course: Course,
    student: User,
    reason: str = HoldReason.PAYMENT,
    until: datetime | None = None,
) -> Enrollment:
    """Hold a seat for `student` (→ held) until `until`, or refuse with an EnrolmentError.

    For a payment in progress: call `confirm_hold` when it succeeds and
    `release_hold` when it is abandoned; otherwise the hold lapses by itself.
    Holding again renews the hold (a seat already held for them is theirs to
    pay for, even when the course is otherwise full). Only a course open for
    enrolment takes holds: a paid one only while its teacher can sell.
    """
    locked, answer = _lock_and_decide(course, student)
    if answer.offer == policy.Offer.MANAGE:
        raise OwnCourseError("You teach this course, so you can't enrol in it.")
    if answer.offer == policy.Offer.GO_TO_COURSE:
        raise IllegalTransitionError("You're already enrolled in this course.")
    if answer.offer != policy.Offer.HELD:
        _refuse_unless_seat(answer)
    elif answer.closed is not None:
        raise EnrolmentClosedError(answer.message)
    until = until or timezone.now() + _hold_length(reason)
    return _hold(locked, student, reason, until, verified=True)


@_seat_transaction
def confirm_hold(*, enrollment: Enrollment) -> Enrollment:
    """Turn a held seat into an enrolment (held → active), e.g. once its payment succeeded.

    A hold that lapsed (swept or not) is confirmed only if a seat is still
    free for it; otherwise CourseFullError.
    """
    course = _lock_course(enrollment.course)
    enrollment.refresh_from_db()
    if enrollment.status == Status.ACTIVE:
        return enrollment
    if enrollment.status not in (Status.HELD, Status.RELEASED):
        _refuse_move(enrollment, Status.ACTIVE)
    if not _holds_unexpired(enrollment):
        try:
            _make_room(course, enrollment.student, verified=True)
        except CourseFullError:
            raise CourseFullError(
                "The seat held for you has expired and the course is now full."
            ) from None
    now = timezone.now()
    _move(enrollment, Status.ACTIVE, enrolled_at=now, ended_at=None, hold_expires_at=None)
    WaitlistEntry.objects.filter(course=course, student_id=enrollment.student_id).delete()
    if enrollment.hold_reason == HoldReason.GUEST:
        events.emit(events.GuestRegistered(enrollment.pk))
    else:
        events.emit(events.Enrolled(enrollment.pk))
    return enrollment


@_seat_transaction
def release_hold(*, enrollment: Enrollment) -> list[Enrollment]:
    """Give up a held seat (held → released), e.g. when its payment was abandoned.

    Return the enrolments made by promoting the waitlist into the freed seat.
    """
    course = _lock_course(enrollment.course)
    enrollment.refresh_from_db()
    if enrollment.status == Status.RELEASED:
        return []
    _move(enrollment, Status.RELEASED, ended_at=timezone.now())
    return _promote(course)


def expire_holds(*, at: datetime | None = None) -> int:
    """Record every hold whose time is up as released, and give freed seats to the waitlist.

    The periodic sweep: expired holds already stopped counting as seats;
    this makes it visible and lets waiting students in. Return how many
    holds were released. Each course is its own transaction.
    """
    at = at or timezone.now()
    course_ids = Enrollment.objects.expired_holds(at).values_list("course_id", flat=True).distinct()
    return sum(_expire_course_holds(course_id, at) for course_id in sorted(set(course_ids)))


@_seat_transaction
def _expire_course_holds(course_id: int, at: datetime) -> int:
    course = _lock_course(Course(pk=course_id))
    # A conditional update: a hold confirmed meanwhile is no longer "held" and stays as it is.
    released = (
        Enrollment.objects.expired_holds(at)
        .filter(course=course)
        .update(status=Status.RELEASED, ended_at=at)
    )
    if released:
        _promote(course)
    return released


def _hold_length(reason: str) -> timedelta:
    if reason == HoldReason.GUEST:
        return timedelta(hours=settings.GUEST_HOLD_HOURS)
    return timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
