"""Enrolment: the states of a student's seat, the waitlist, invitations and leaving.

States and transitions
----------------------
One `Enrollment` row per student and course moves through these states; the
functions below, with those in `courses.services.holds` (holding, confirming,
releasing and expiring seats) and `courses.services.registration` (visitors
registering with a name and an email), are the only way between them, and any
other move raises `IllegalTransitionError`:

    (none / left / removed / released) --hold_seat, register_guest--> held
    (none / left / removed / released) --enroll_student, add_student, promotion--> active
    held --confirm_hold, confirm_guest_holds, add_student--> active
    held --release_hold, expire_holds (the sweep), a verified student bumping a guest--> released
    held --remove_student--> removed
    active --leave_course--> left
    active --remove_student--> removed

Waiting is kept apart, in `WaitlistEntry`: a place in line is ordered by when
it was taken and can sit next to an ended enrolment row; promotion turns the
first entries into active enrolments, or, in a paid course, into seats held
for `WAITLIST_OFFER_HOURS` while the student pays (they are emailed a link).

A paid course is bought, never enrolled in for free: `enroll_student` refuses
it, and the billing app holds the seat (`hold_seat`) while a checkout is open
and confirms the hold (`confirm_hold`) once the payment succeeded.

Who may do what is `courses.enrolment_policy`'s decision: every function here
asks it under the lock and enforces its answer; a student who was removed
can't come back by themselves, only the teacher can add them again.

Holds
-----
A held seat counts as taken until `hold_expires_at`. A visitor registering
with a name and an email gets a guest hold (`GUEST_HOLD_HOURS`) that becomes
an enrolment when they follow the invitation link, which proves the address.
A payment in progress holds a seat for `PAYMENT_HOLD_MINUTES` (`hold_seat`,
`confirm_hold`, `release_hold`). An expired hold stops counting at once; the
periodic `expire_holds` sweep records it as released and gives the freed
seats to the waitlist. A guest hold yields its seat to a signed-in student
when the course is otherwise full: the newest guest hold is released for
them, so addresses nobody confirms never turn real students away.

Concurrency
-----------
Seats are counted and taken under a lock on the course row. Every write that
changes who holds a seat first locks the course, then counts the seats taken,
then inserts or updates. Two students racing for the last seat are therefore
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
get an account without a password and with an unverified address
(`courses.services.invitations` makes it and renders the seat emails). The
invitation email carries a one-time link (allauth's password-reset token) to
choose a password; following it proves the address, so it is verified then.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from core.db import atomic_with_sqlite_retry
from courses import enrolment_policy as policy
from courses import events
from courses.models import Course, Enrollment, WaitlistEntry
from courses.services import invitations

_seat_transaction = atomic_with_sqlite_retry
Status = Enrollment.Status
HoldReason = Enrollment.HoldReason


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


class IllegalTransitionError(EnrolmentError):
    """A move between enrolment states that the state machine doesn't allow."""


@dataclass(frozen=True)
class AddResult:
    """What `add_student` and `register_guest` did."""

    enrollment: Enrollment | None
    invited: bool  # a new account was made and an invitation sent
    already_enrolled: bool = False


# --- Students enrolling themselves -------------------------------------------------------------


@_seat_transaction
def enroll_student(*, course: Course, student: User) -> Enrollment:
    """Give `student` a seat in the free, open `course`, or refuse with an EnrolmentError.

    Enrolling again after leaving reactivates the same row; enrolling twice is harmless.
    """
    locked, answer = _lock_and_decide(course, student)
    if answer.offer == policy.Offer.MANAGE:
        raise OwnCourseError("You teach this course, so you can't enrol in it.")
    if answer.offer == policy.Offer.GO_TO_COURSE:
        return Enrollment.objects.get(course=locked, student=student)
    _refuse_unless_seat(answer)
    _refuse_if_paid(answer)
    enrollment = _take_seat(locked, student, verified=True)
    events.emit(events.Enrolled(enrollment.pk))
    return enrollment


@_seat_transaction
def join_waitlist(*, course: Course, student: User) -> Enrollment | WaitlistEntry:
    """Put `student` in line for a seat; if one is free after all, enrol them instead."""
    locked, answer = _lock_and_decide(course, student)
    if answer.offer == policy.Offer.MANAGE:
        raise OwnCourseError("You teach this course, so you can't join its waitlist.")
    if answer.offer == policy.Offer.GO_TO_COURSE:
        return Enrollment.objects.get(course=locked, student=student)
    if answer.can_take_seat:
        _refuse_if_paid(answer)
        enrollment = _take_seat(locked, student, verified=True)
        events.emit(events.Enrolled(enrollment.pk))
        return enrollment
    if not answer.can_join_waitlist:
        raise EnrolmentClosedError(answer.refusal or policy.FULL_WORDS)
    entry, _ = WaitlistEntry.objects.get_or_create(course=locked, student=student)
    return entry


@transaction.atomic
def leave_waitlist(*, course: Course, student: User) -> bool:
    """Take `student` off the waitlist; say whether they were on it."""
    deleted, _ = WaitlistEntry.objects.filter(course=course, student=student).delete()
    return bool(deleted)


@_seat_transaction
def leave_course(*, enrollment: Enrollment) -> list[Enrollment]:
    """End the student's enrolment (active → left); promote whoever waits for the freed seat.

    Return the enrolments made by promotion. Leaving twice is harmless.
    """
    course = _lock_course(enrollment.course)
    enrollment.refresh_from_db(fields=["status", "ended_at"])
    if enrollment.status != Status.ACTIVE:  # left already, or removed meanwhile
        return []
    _move(enrollment, Status.LEFT, ended_at=timezone.now())
    return _promote(course)


# A visit is written at most this often, unless it showed new items.
VISIT_RECORD_SECONDS = 5 * 60


def record_visit(*, enrollment: Enrollment, saw_new_items: bool) -> None:
    """Remember when the student last opened the course, for next time's "New" badges.

    A visit that showed items as new is written at once, so they aren't new the
    next time. Any other visit is written only when the one on record is more
    than `VISIT_RECORD_SECONDS` old: reading the course again and again writes
    nothing, and the teacher's roster still says when they last came, to within
    a few minutes.
    """
    now = timezone.now()
    last = enrollment.last_visited_at
    if (
        not saw_new_items
        and last is not None
        and now - last < timedelta(seconds=VISIT_RECORD_SECONDS)
    ):
        return
    enrollment.last_visited_at = now
    enrollment.save(update_fields=["last_visited_at"])


# --- The teacher's roster ------------------------------------------------------------------------


@_seat_transaction
def remove_student(*, course: Course, student: User) -> bool:
    """Remove `student` from `course` (active or held → removed, and off its waitlist).

    Promote whoever waits. Return whether they had a seat.
    """
    locked = _lock_course(course)
    WaitlistEntry.objects.filter(course=locked, student=student).delete()
    enrollment = _row(locked, student)
    if enrollment is None or enrollment.status not in (Status.ACTIVE, Status.HELD):
        return False
    _move(enrollment, Status.REMOVED, ended_at=timezone.now())
    _promote(locked)
    return True


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
    A seat held for the person becomes theirs.
    """
    locked = _lock_course(course)
    refusal = policy.teacher_add_refusal(policy.facts_for(locked))
    if refusal:
        raise EnrolmentClosedError(refusal)
    email = invitations.normalise_email(email)
    user = invitations.find_account(email)
    if user is not None and user.pk == locked.teacher_id:
        raise OwnCourseError("That's your own address: you teach this course.")
    if user is not None and not invitations.is_unclaimed(user):
        existing = _row(locked, user)
        if existing is not None and existing.status == Status.ACTIVE:
            return AddResult(enrollment=None, invited=False, already_enrolled=True)
        enrollment = _take_seat(locked, user, verified=True)
        invitations.send_added(enrollment)
        events.emit(events.AddedByTeacher(enrollment.pk))
        return AddResult(enrollment=enrollment, invited=False)
    user = user or invitations.create_invited_account(email, first_name, last_name)
    enrollment = _take_seat(locked, user, verified=True)
    invitations.send_invitation(enrollment)
    events.emit(events.AddedByTeacher(enrollment.pk))
    return AddResult(enrollment=enrollment, invited=True)


# --- Inside the lock -----------------------------------------------------------------------------


def _lock_course(course: Course) -> Course:
    """Lock the course row for the rest of the transaction and return it fresh."""
    if not connection.features.has_select_for_update:
        Course.objects.filter(pk=course.pk).update(updated_at=F("updated_at"))
    return Course.objects.select_for_update().get(pk=course.pk)


def _lock_and_decide(course: Course, student: User | None) -> tuple[Course, policy.Answer]:
    """Lock the course and ask the policy about `student` (None: a visitor registering)."""
    locked = _lock_course(course)
    viewer = policy.viewer_for(student, locked) if student is not None else policy.VISITOR
    return locked, policy.decide(policy.facts_for(locked), viewer)


def _refuse_unless_seat(answer: policy.Answer) -> None:
    """Raise the policy's refusal when the person may not take a seat now."""
    if answer.can_take_seat:
        return
    if answer.closed is None and answer.full and answer.offer != policy.Offer.REMOVED:
        raise CourseFullError(policy.FULL_WORDS)
    raise EnrolmentClosedError(answer.refusal or policy.FULL_WORDS)


def _refuse_if_paid(answer: policy.Answer) -> None:
    """Refuse a free seat in a paid course: it is bought through checkout."""
    if answer.needs_payment:
        raise EnrolmentClosedError("This course is paid: buy it to take a seat.")


def _row(course: Course, student: User) -> Enrollment | None:
    return Enrollment.objects.filter(course=course, student=student).first()


def _holds_unexpired(enrollment: Enrollment | None) -> bool:
    return (
        enrollment is not None
        and enrollment.status == Status.HELD
        and not enrollment.hold_expired()
    )


def _refuse_move(enrollment: Enrollment, to: str) -> None:
    labels = dict(Status.choices)
    raise IllegalTransitionError(
        f"An enrolment that is “{labels[enrollment.status]}” can't become “{labels[to]}”."
    )


def _move(enrollment: Enrollment, to: str, **fields: Any) -> None:
    """Move `enrollment` to state `to`, checked against `Enrollment.TRANSITIONS`, and save."""
    if to not in Enrollment.TRANSITIONS[enrollment.status]:
        _refuse_move(enrollment, to)
    enrollment.status = to
    for name, value in fields.items():
        setattr(enrollment, name, value)
    enrollment.save(update_fields=["status", *fields])


def _seats_left(course: Course, *, verified: bool) -> int | None:
    """Count the seats left in the locked `course` for a verified student or a visitor."""
    facts = policy.facts_for(course)
    taken = facts.seats_taken - (facts.guest_holds if verified else 0)
    return policy.seats_left(facts.capacity, taken)


def _make_room(course: Course, student: User, *, verified: bool) -> None:
    """Make sure a seat is free for `student` in the locked course, or raise CourseFullError.

    For a verified student in a course full only because of guest holds, the
    newest guest hold gives its seat up.
    """
    facts = policy.facts_for(course)
    if facts.capacity is None or facts.seats_taken < facts.capacity:
        return
    if verified and facts.guest_holds:
        newest = (
            Enrollment.objects.guest_holds(timezone.now())
            .filter(course=course)
            .exclude(student=student)
            .order_by("-enrolled_at", "-pk")
            .first()
        )
        if newest is not None:
            _move(newest, Status.RELEASED, ended_at=timezone.now())
            return
    raise CourseFullError(policy.FULL_WORDS)


def _occupy(course: Course, student: User, status: str, **fields: Any) -> Enrollment:
    """Put `student`'s row (new or old) in the seat-taking `status`."""
    existing = _row(course, student)
    values = {"enrolled_at": timezone.now(), "ended_at": None, **fields}
    if existing is None:
        enrollment = Enrollment.objects.create(
            course=course, student=student, status=status, **values
        )
    else:
        enrollment = existing
        _move(enrollment, status, **values)
    WaitlistEntry.objects.filter(course=course, student=student).delete()
    return enrollment


def _take_seat(course: Course, student: User, *, verified: bool) -> Enrollment:
    """Enrol `student` in the locked `course` (→ active) if a seat is free; reuse an old row."""
    existing = _row(course, student)
    if existing is not None and existing.status == Status.ACTIVE:
        return existing
    if not _holds_unexpired(existing):
        _make_room(course, student, verified=verified)
    return _occupy(course, student, Status.ACTIVE, hold_expires_at=None)


def _hold(
    course: Course, student: User, reason: str, until: datetime, *, verified: bool
) -> Enrollment:
    """Hold a seat of the locked `course` for `student` (→ held) until `until`."""
    existing = _row(course, student)
    if not _holds_unexpired(existing):
        _make_room(course, student, verified=verified)
    return _occupy(course, student, Status.HELD, hold_reason=reason, hold_expires_at=until)


def _promote(course: Course) -> list[Enrollment]:
    """Give free seats of the locked `course` to the earliest waiting students.

    In a free course they are enrolled (→ active); in a paid one the seat is
    held for them for `WAITLIST_OFFER_HOURS` (→ held) and they are emailed a
    link to pay. Return the rows changed.
    """
    facts = policy.facts_for(course)
    if policy.closed_reason(facts) is not None:
        return []
    paid = facts.price_amount > 0
    promoted: list[Enrollment] = []
    for entry in WaitlistEntry.objects.filter(course=course).select_related("student"):
        row = _row(course, entry.student)
        if not entry.student.is_active or (row is not None and row.status == Status.ACTIVE):
            entry.delete()
            continue
        if _seats_left(course, verified=True) == 0:
            break
        if paid:
            until = timezone.now() + timedelta(hours=settings.WAITLIST_OFFER_HOURS)
            enrollment = _hold(course, entry.student, HoldReason.PAYMENT, until, verified=True)
            promoted.append(enrollment)
            invitations.send_seat_offered(enrollment)
            continue
        enrollment = _take_seat(course, entry.student, verified=True)
        promoted.append(enrollment)
        invitations.send_promoted(enrollment)
        events.emit(events.PromotedFromWaitlist(enrollment.pk))
    return promoted
