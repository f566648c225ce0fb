"""Participant-minutes: each person's time in a room, the session's attendance, a teacher's month.

A person's `Participation` is derived from their intervals, never counted up
event by event: `seconds` is the length of the union of their closed
intervals, so two connections open at once (a second tab, a reconnect whose
leave came late) count once. It is refreshed whenever their intervals are
rebuilt (`live.webhooks.rebuild_room`), in one upsert for however many people.

Attendance is filled from participations once nothing in the room is left
open (`fill_attendance`); the rules themselves, and the teacher's overrides
winning, belong to the courses app (`courses.services.attendance.fill_from_live`).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from django.db.models import Sum

from courses.services import attendance as course_attendance
from live.models import LiveRoom, Participation


class Interval(NamedTuple):
    """One connection as the participation sees it."""

    joined_at: datetime
    left_at: datetime | None
    closed_by: str
    user_id: int | None


def union_seconds(spans: Iterable[tuple[datetime, datetime]]) -> int:
    """Return the seconds covered by `spans`, overlapping ones counted once."""
    total = 0.0
    start: datetime | None = None
    end: datetime | None = None
    for joined_at, left_at in sorted(spans):
        if end is None or joined_at > end:
            if start is not None and end is not None:
                total += (end - start).total_seconds()
            start, end = joined_at, left_at
        elif left_at > end:
            end = left_at
    if start is not None and end is not None:
        total += (end - start).total_seconds()
    return round(total)


def participation_of(
    room: LiveRoom, identity: str, intervals: Iterable[Interval]
) -> Participation | None:
    """Return what `identity`'s intervals add up to; None without any.

    `last_left_at` stays empty while a connection is open: the person is
    still in the room, and that connection isn't counted yet.
    """
    intervals = list(intervals)
    if not intervals:
        return None
    closed = [(i.joined_at, i.left_at) for i in intervals if i.left_at is not None]
    still_open = len(closed) < len(intervals)
    return Participation(
        room=room,
        identity=identity,
        user_id=next((i.user_id for i in intervals if i.user_id is not None), None),
        first_joined_at=min(i.joined_at for i in intervals),
        last_left_at=None if still_open else max(left for _, left in closed),
        seconds=union_seconds(closed),
    )


def refresh_participations(room: LiveRoom, intervals: Mapping[str, Mapping[str, Interval]]) -> None:
    """Make the participations of the identities in `intervals` (identity → sid → interval) agree.

    One upsert for all of them, keyed on (room, identity).
    """
    rows = [
        participation
        for identity, by_sid in intervals.items()
        if (participation := participation_of(room, identity, by_sid.values())) is not None
    ]
    if rows:
        Participation.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["room", "identity"],
            update_fields=["user", "first_joined_at", "last_left_at", "seconds"],
        )


def fill_attendance(room: LiveRoom) -> int:
    """Fill the session's attendance sheet from the room's participations; return rows written.

    `room.item.course` should be loaded. A room nobody ever joined fills
    nothing: the session may have taken place elsewhere, and the teacher marks
    it by hand. The teacher's own time is not attendance; `fill_from_live`
    only marks the course's enrolled students.
    """
    rows = Participation.objects.filter(room=room, user__isnull=False).values_list(
        "user_id", "first_joined_at", "seconds"
    )
    times = {user_id: (first_joined_at, seconds) for user_id, first_joined_at, seconds in rows}
    if not times:
        return 0
    held = None
    if room.started_at and room.finished_at and room.finished_at > room.started_at:
        held = round((room.finished_at - room.started_at).total_seconds())
    return course_attendance.fill_from_live(room.item, times, held_seconds=held)


def minutes_since(teacher: Any, since: datetime) -> int:
    """Return the participant-minutes of everyone in `teacher`'s rooms who joined since `since`.

    Everyone counts, the teacher included, as LiveKit counts them; a
    connection still open isn't counted until it closes. One query.
    """
    seconds = Participation.objects.filter(
        room__item__course__teacher=teacher, first_joined_at__gte=since
    ).aggregate(total=Sum("seconds"))["total"]
    return round((seconds or 0) / 60)
