"""Invited accounts and the emails about a seat.

People a teacher invites, and visitors who register with a name and an email,
get an account without a password and with an unverified address; the
invitation email carries a one-time link (allauth's password-reset token) to
choose a password. The enrolment services (`courses.services.enrolment`,
`holds` and `registration`) decide the seats; this module makes the accounts
and renders the emails, which the outbox sends once the seat's transaction
commits.
"""

import uuid
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courses.models import Course, Enrollment
from outbox import services as outbox

Status = Enrollment.Status


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


def create_invited_account(email: str, first_name: str, last_name: str, country: str = "") -> User:
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


def normalise_email(email: str) -> str:
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


def send_invitation(enrollment: Enrollment) -> None:
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
            "held_until": (
                enrollment.hold_expires_at if enrollment.status == Status.HELD else None
            ),
        },
    )


def send_added(enrollment: Enrollment) -> None:
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


def send_promoted(enrollment: Enrollment) -> None:
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


def send_seat_offered(enrollment: Enrollment) -> None:
    """Tell the next student on a paid course's waitlist that a seat is held for them to buy."""
    course = enrollment.course
    _mail(
        _seat_key("offered", enrollment),
        "courses/enrolment/email/seat_offered",
        enrollment.student.email,
        {
            "user": enrollment.student,
            "course": course,
            "teacher": course.teacher,
            "held_until": enrollment.hold_expires_at,
            "course_url": _absolute(course.get_absolute_url()),
        },
    )


def send_finish_enrolling(course: Course, email: str) -> None:
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
