from typing import Any

from allauth.usersessions.models import UserSession
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from privacy import documents
from privacy import services as privacy_services


@transaction.atomic
def complete_signup(
    *,
    user: User,
    first_name: str,
    last_name: str,
    is_teacher: bool,
    is_student: bool,
    organisation_name: str,
    country: str,
) -> None:
    """Store what the sign-up form asked and record the policies accepted there."""
    user.first_name = first_name
    user.last_name = last_name
    user.is_teacher = is_teacher
    user.is_student = is_student
    user.organisation_name = organisation_name if is_teacher else ""
    user.country = country
    user.save(
        update_fields=[
            "first_name", "last_name", "is_teacher", "is_student", "organisation_name", "country",
        ]
    )  # fmt: skip
    privacy_services.record_acceptances(user=user, docs=documents.required_for(user))


def update_user(*, user: User, fields: dict[str, Any]) -> None:
    """Save the changed profile or preference fields of `user`."""
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))


def sessions_for(user: User) -> list[UserSession]:
    """Return `user`'s live sessions, newest activity first, dropping dead ones."""
    return sorted(
        UserSession.objects.purge_and_list(user), key=lambda s: s.last_seen_at, reverse=True
    )


def end_session(*, user: User, session_id: int) -> bool:
    """End one of `user`'s sessions; return False when it isn't theirs or is gone."""
    session = UserSession.objects.filter(user=user, pk=session_id).first()
    if session is None:
        return False
    session.end()
    return True


def end_other_sessions(*, user: User, request: HttpRequest) -> int:
    """End every session of `user` except the one making this request."""
    others = UserSession.objects.filter(user=user).exclude(
        session_key=request.session.session_key or ""
    )
    count = 0
    for session in others:
        session.end()
        count += 1
    return count
