"""Who may join a session's live room, with which rights, and the room itself.

Only the course's teacher and its actively enrolled students may join, from
`JOIN_EARLY` before the session starts until `LIVE_JOIN_GRACE_MINUTES` after
it ends. People appear at LiveKit under an opaque identity (`identity_for`)
that names neither them nor their email; the display name is their own name,
since the others in the room see it anyway.

The teacher's controls (mute, remove, stage, end) change what Lectern holds
and what LiveKit does together: the room's row is locked and changed, LiveKit
is asked, and when LiveKit can't be reached the change is rolled back, so the
room's lists never say something LiveKit wasn't told. A person removed, or a
session ended, gets no new token: the lists are read when one is asked for.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from courses import access
from courses.live import JOIN_EARLY as JOIN_EARLY  # the rule lives with the courses
from courses.live import join_window as join_window
from courses.models import CourseItem, Delivery, Enrollment, ItemKind
from live import client
from live.models import LiveRoom

_IDENTITY_SALT = "live.identity"


class JoinRefusedError(Exception):
    """Someone who may see the session may not join its room now; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ControlRefusedError(Exception):
    """A teacher's control that can't apply now (an ended session…); `message` says why."""

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


def join_grants(
    *,
    user: Any,
    item: CourseItem,
    now: datetime,
    on_stage: bool = False,
    room: LiveRoom | None = None,
) -> JoinGrants:
    """Return what `user` may do in `item`'s room at `now`, or raise JoinRefusedError.

    `item.course` must be loaded; `room` is read when not given. The teacher
    administers, publishes and records; a student watches, listens and sends
    data (chat, raised hands), and publishes audio and video when the course
    lets every student do so, or when invited on stage (`on_stage`, or the
    room's stage list). Nobody joins a session the teacher ended, nor a
    student the teacher removed. The teacher's plan doesn't matter: one whose
    sales are paused still teaches the students they have.
    """
    if item.kind != ItemKind.SESSION or item.starts_at is None:
        raise JoinRefusedError("Only sessions have a live room.")
    if item.delivery != Delivery.LIVE:
        raise JoinRefusedError("This session takes place at its meeting link, not on Lectern.")
    course = item.course
    is_teacher = course.teacher_id == user.pk
    if not is_teacher:
        if access.get_enrollment(user, course) is None:
            raise JoinRefusedError("Only the course's teacher and its enrolled students may join.")
        if not item.published:
            raise JoinRefusedError("This session isn't published yet.")
    identity = identity_for(user)
    if room is None:
        room = LiveRoom.objects.filter(item=item).first()
    if room is not None and room.ended_at is not None:
        raise JoinRefusedError("The teacher ended this session.")
    if room is not None and not is_teacher and identity in room.removed:
        raise JoinRefusedError("The teacher removed you from this session.")
    opens, closes = join_window(item)
    if now < opens:
        raise JoinRefusedError("The room opens 15 minutes before the session starts.")
    if now > closes:
        raise JoinRefusedError("This session has ended.")
    invited = on_stage or (room is not None and identity in room.on_stage)
    return JoinGrants(
        identity=identity,
        name=user.get_full_name() or user.get_short_name(),
        is_teacher=is_teacher,
        room_admin=is_teacher,
        room_record=is_teacher,
        can_publish=is_teacher or course.students_may_publish or invited,
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


# --- The teacher's controls ------------------------------------------------------------------
# Each raises ControlRefusedError when it can't apply, and client.LiveKitUnavailableError when
# LiveKit didn't take it; in both cases nothing is changed.


def _locked_open_room(room: LiveRoom) -> LiveRoom:
    locked = LiveRoom.objects.select_for_update().get(pk=room.pk)
    if locked.ended_at is not None:
        raise ControlRefusedError("This session has ended.")
    return locked


def _student_identity(identity: str, *, teacher: Any) -> int:
    """Return the user id behind `identity`, refusing a forged one and the teacher's own."""
    user_id = user_id_for(identity)
    if user_id is None:
        raise ControlRefusedError("There is no such participant.")
    if user_id == teacher.pk:
        raise ControlRefusedError("You can't do that to yourself.")
    return user_id


def mute(*, room: LiveRoom, identity: str, teacher: Any) -> int:
    """Mute what `identity` publishes in the room now; return how many tracks were muted."""
    _student_identity(identity, teacher=teacher)
    if room.ended_at is not None:
        raise ControlRefusedError("This session has ended.")
    return client.mute_tracks(room.name, identity)


@transaction.atomic
def remove(*, room: LiveRoom, identity: str, teacher: Any) -> LiveRoom:
    """Take `identity` out of the room and keep them out: no new token for this session.

    They also leave the stage, so a later invitation starts afresh.
    """
    _student_identity(identity, teacher=teacher)
    room = _locked_open_room(room)
    if identity not in room.removed:
        room.removed = [*room.removed, identity]
    room.on_stage = [i for i in room.on_stage if i != identity]
    room.save(update_fields=["removed", "on_stage"])
    client.remove_participant(room.name, identity)
    return room


@transaction.atomic
def set_on_stage(*, room: LiveRoom, identity: str, on: bool, teacher: Any) -> LiveRoom:
    """Invite an enrolled student on stage (they may publish), or send them back to the audience.

    The stage list decides the next token; LiveKit changes the permission of
    a student in the room now. Off stage, a student still publishes when the
    course lets every student do so.
    """
    user_id = _student_identity(identity, teacher=teacher)
    course = room.item.course
    enrolled = Enrollment.objects.filter(
        course=course, student_id=user_id, status=Enrollment.Status.ACTIVE
    )
    if not enrolled.exists():
        raise ControlRefusedError("Only the course's enrolled students can be invited on stage.")
    room = _locked_open_room(room)
    if on and identity in room.removed:
        raise ControlRefusedError("You removed this student from the session.")
    stage = [i for i in room.on_stage if i != identity]
    room.on_stage = [*stage, identity] if on else stage
    room.save(update_fields=["on_stage"])
    client.set_can_publish(room.name, identity, on or course.students_may_publish)
    return room


@transaction.atomic
def end(*, room: LiveRoom) -> LiveRoom:
    """End the session for everyone: LiveKit closes the room, and no new token is given."""
    room = LiveRoom.objects.select_for_update().get(pk=room.pk)
    if room.ended_at is None:
        room.ended_at = timezone.now()
        room.save(update_fields=["ended_at"])
    client.delete_room(room.name)
    return room
