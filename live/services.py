"""Who may join a session's live room, with which rights, and the room itself.

Only the course's teacher and its actively enrolled students may join, from
`JOIN_EARLY` before the session starts until `LIVE_JOIN_GRACE_MINUTES` after
it ends. People appear at LiveKit under an opaque identity (`identity_for`)
that names neither them nor their email; the display name is their own name,
since the others in the room see it anyway.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from courses import access
from courses.models import CourseItem, ItemKind
from live.models import LiveRoom

JOIN_EARLY = timedelta(minutes=15)
_IDENTITY_SALT = "live.identity"


class JoinRefusedError(Exception):
    """Someone who may see the session may not join its room now; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class JoinGrants:
    """What one person may do in one session's room."""

    identity: str
    name: str
    is_teacher: bool
    room_admin: bool
    room_record: bool
    can_publish: bool
    can_publish_data: bool
    can_subscribe: bool


def identity_for(user: Any) -> str:
    """Return `user`'s opaque identity in live rooms: their id and a keyed check of it."""
    return f"u{user.pk}-{_check(str(user.pk))}"


def user_id_for(identity: str) -> int | None:
    """Return the user id an identity from `identity_for` stands for; None for any other."""
    head, _, check = identity.partition("-")
    if not head.startswith("u") or not head[1:].isdigit():
        return None
    if not constant_time_compare(check, _check(head[1:])):
        return None
    return int(head[1:])


def _check(value: str) -> str:
    return salted_hmac(_IDENTITY_SALT, value, algorithm="sha256").hexdigest()[:10]


def join_window(item: CourseItem) -> tuple[datetime, datetime]:
    """Return when the session's room opens and closes for joining."""
    assert item.starts_at is not None
    ends_at = item.ends_at or item.starts_at
    grace = timedelta(minutes=settings.LIVE_JOIN_GRACE_MINUTES)
    return item.starts_at - JOIN_EARLY, ends_at + grace


def join_grants(
    *, user: Any, item: CourseItem, now: datetime, on_stage: bool = False
) -> JoinGrants:
    """Return what `user` may do in `item`'s room at `now`, or raise JoinRefusedError.

    `item.course` must be loaded. The teacher administers, publishes and
    records; a student watches, listens and sends data (chat, raised hands),
    and publishes audio and video only when `on_stage`.
    """
    if item.kind != ItemKind.SESSION or item.starts_at is None:
        raise JoinRefusedError("Only sessions have a live room.")
    course = item.course
    is_teacher = course.teacher_id == user.pk
    if not is_teacher:
        if access.get_enrollment(user, course) is None:
            raise JoinRefusedError("Only the course's teacher and its enrolled students may join.")
        if not item.published:
            raise JoinRefusedError("This session isn't published yet.")
    opens, closes = join_window(item)
    if now < opens:
        raise JoinRefusedError("The room opens 15 minutes before the session starts.")
    if now > closes:
        raise JoinRefusedError("This session has ended.")
    return JoinGrants(
        identity=identity_for(user),
        name=user.get_full_name() or user.get_short_name(),
        is_teacher=is_teacher,
        room_admin=is_teacher,
        room_record=is_teacher,
        can_publish=is_teacher or on_stage,
        can_publish_data=True,
        can_subscribe=True,
    )


def ensure_room(*, item: CourseItem) -> LiveRoom:
    """Return the session's room, creating it under a fresh random name the first time."""
    room = LiveRoom.objects.filter(item=item).first()
    if room is not None:
        return room
    try:
        with transaction.atomic():
            return LiveRoom.objects.create(item=item, name=secrets.token_urlsafe(16))
    except IntegrityError:  # someone else created it a moment ago
        return LiveRoom.objects.get(item=item)
