"""Visitors registering on the storefront with a name and an email, and confirming it.

A visitor gets a seat held for them (a guest hold for a free course, a payment
hold for a paid one); following the invitation link proves the address, sets
the account's first password and turns the guest holds into enrolments.
"""

from dataclasses import dataclass

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from courses.models import Course, Enrollment, WaitlistEntry
from courses.services import invitations
from courses.services.enrolment import (
    AddResult,
    CourseFullError,
    EnrolmentClosedError,
    _hold,
    _holds_unexpired,
    _lock_and_decide,
    _row,
    _seat_transaction,
)
from courses.services.holds import _hold_length, confirm_hold

Status = Enrollment.Status
HoldReason = Enrollment.HoldReason


@dataclass(frozen=True)
class GuestConfirmation:
    """What confirming an address did for one held registration."""

    course: Course
    enrolled: bool  # False: the seat was gone, so they joined the waitlist


@_seat_transaction
def register_guest(
    *, course: Course, email: str, first_name: str, last_name: str, country: str = ""
) -> AddResult:
    """Hold a seat for a visitor who registers for a free course with a name and an email.

    A new address gets an account without a password, a guest hold (→ held,
    for `GUEST_HOLD_HOURS`) and an invitation; following its link confirms the
    address and turns the hold into an enrolment. An address that already has
    an account is sent a "log in to finish enrolling" email instead: nothing
    is changed, and the caller shows the same page either way, so the form
    never reveals who has an account.
    """
    locked, answer = _lock_and_decide(course, None)
    if answer.closed is not None:
        raise EnrolmentClosedError(answer.message)
    email = invitations.normalise_email(email)
    user = invitations.find_account(email)
    if user is not None and (not invitations.is_unclaimed(user) or user.pk == locked.teacher_id):
        invitations.send_finish_enrolling(locked, email)
        return AddResult(enrollment=None, invited=False)
    existing = _row(locked, user) if user is not None else None
    if existing is not None and existing.status == Status.REMOVED:
        # Same page as ever, and no new seat: only the teacher can add them back.
        return AddResult(enrollment=None, invited=False)
    needs_seat = existing is None or existing.status != Status.ACTIVE
    if needs_seat and answer.seats_left == 0 and not _holds_unexpired(existing):
        raise CourseFullError(
            "This course is full. Log in or create an account to join its waitlist."
        )
    user = user or invitations.create_invited_account(email, first_name, last_name, country)
    if existing is not None and existing.status == Status.ACTIVE:
        enrollment = existing
    else:
        until = timezone.now() + _hold_length(HoldReason.GUEST)
        enrollment = _hold(locked, user, HoldReason.GUEST, until, verified=False)
    invitations.send_invitation(enrollment)
    return AddResult(enrollment=enrollment, invited=True)


@_seat_transaction
def register_buyer(
    *, course: Course, email: str, first_name: str, last_name: str, country: str = ""
) -> Enrollment | None:
    """Hold a seat for payment for a visitor who gives a name and an email to buy a course.

    A new (or never claimed) address gets an account without a password and a
    payment hold; the caller sends them to checkout, and once they have paid
    they are invited to choose a password. An address that already has an
    account is sent a "log in to finish enrolling" email and None is returned:
    the caller shows the same page either way, so the form never reveals who
    has an account. A full course raises CourseFullError.
    """
    locked, answer = _lock_and_decide(course, None)
    if answer.closed is not None:
        raise EnrolmentClosedError(answer.message)
    email = invitations.normalise_email(email)
    user = invitations.find_account(email)
    if user is not None and (not invitations.is_unclaimed(user) or user.pk == locked.teacher_id):
        invitations.send_finish_enrolling(locked, email)
        return None
    existing = _row(locked, user) if user is not None else None
    if existing is not None and existing.status in (Status.REMOVED, Status.ACTIVE):
        # Removed: only the teacher can add them back. Active: nothing to buy.
        invitations.send_finish_enrolling(locked, email)
        return None
    if answer.seats_left == 0 and not _holds_unexpired(existing):
        raise CourseFullError(
            "This course is sold out. Log in or create an account to join its waitlist."
        )
    user = user or invitations.create_invited_account(email, first_name, last_name, country)
    until = timezone.now() + _hold_length(HoldReason.PAYMENT)
    return _hold(locked, user, HoldReason.PAYMENT, until, verified=False)


@transaction.atomic
def confirm_guest_holds(*, user: User) -> list[GuestConfirmation]:
    """Turn the seats held for a visitor into enrolments, now that their address is proven.

    A hold that lapsed gets a seat if one is still free; otherwise the person
    joins the waitlist (they asked for a seat, and now have an account).
    """
    results: list[GuestConfirmation] = []
    holds = Enrollment.objects.filter(
        student=user, hold_reason=HoldReason.GUEST, status__in=[Status.HELD, Status.RELEASED]
    ).select_related("course")
    for enrollment in holds.order_by("pk"):
        try:
            confirm_hold(enrollment=enrollment)
        except CourseFullError:
            WaitlistEntry.objects.get_or_create(course=enrollment.course, student=user)
            results.append(GuestConfirmation(course=enrollment.course, enrolled=False))
        else:
            results.append(GuestConfirmation(course=enrollment.course, enrolled=True))
    return results


@transaction.atomic
def activate_invited_account(*, user: User, password: str) -> list[GuestConfirmation]:
    """Set the first password of an invited account, mark its address verified, confirm its holds.

    The invitation link was sent to that address, so following it proves it,
    and the seats held for the person's registrations become enrolments.
    """
    get_adapter().set_password(user, password)
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email).exists():
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return confirm_guest_holds(user=user)
