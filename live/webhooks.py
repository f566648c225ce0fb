"""LiveKit's webhook events: stored once, then turned into intervals, in any order, any times.

1. The view verifies the JWT and body hash (`live.client.receive_webhook`);
   `receive` stores the event once in the LiveKit inbox (`outbox.inbox`: one
   `INSERT … ON CONFLICT DO NOTHING`, then the processor woken once per
   burst): a duplicate stores nothing and is answered 200 like the first.
2. The inbox claims each due event, in LiveKit's own order, and `apply`
   rebuilds what it touches. A failure is recorded on the row and tried again
   with back-off, up to 8 times; so is an event whose worker vanished.
3. Intervals are never patched from one event: the room's row is locked and
   the intervals of each person concerned are rebuilt from every event stored
   for them, matched by LiveKit's connection id (`participant_sid`). Events
   arriving late, twice or shuffled therefore end in the same intervals, and
   only LiveKit's own timestamps matter, never arrival order:
   - a connection opens at its `participant_joined`, and closes at its
     `participant_left`;
   - one whose leaving was never reported closes when the same person joins
     again, or else at the first `room_finished` after it opened, or at the
     leave reconciliation stored for it (`live.reconcile`), whichever is first.
   A person's participation (`live.attendance`) is refreshed with their
   intervals. `room_finished` rebuilds the whole room set-wise, in a fixed
   number of queries however many people and events it has, and fills the
   session's attendance.
"""

import bisect
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from core import db, jobs
from live import attendance, recordings, services
from live.models import LiveKitEvent, LiveRoom, ParticipantInterval
from outbox import services as outbox
from outbox.inbox import Inbox

log = logging.getLogger(__name__)

PROCESS_TASK = "live.tasks.process_livekit_event_task"
DRAIN_TASK = "live.tasks.drain_livekit_events_task"
RECONCILE_TASK = "live.tasks.reconcile_room_task"
JOINED, LEFT = "participant_joined", "participant_left"
STARTED, FINISHED = "room_started", "room_finished"
# Never sent by LiveKit: a leave `live.reconcile` stores for a connection LiveKit no longer lists.
RECONCILED_LEAVE = "reconciled_leave"
_CONNECTION_EVENTS = (JOINED, LEFT)
_INTERVAL_EVENTS = (JOINED, LEFT, RECONCILED_LEAVE)
ClosedBy = ParticipantInterval.ClosedBy


class NotAnEventError(ValueError):
    """A verified body that lacks what every event has (an id, a type)."""


def event_time(value: Any) -> datetime:
    """Return LiveKit's seconds-since-epoch timestamp (int64 as a string) as a UTC datetime."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise NotAnEventError("The event has no time.") from None
    if seconds <= 0:
        raise NotAnEventError("The event has no time.")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise NotAnEventError("The event's time is out of range.") from None


def receive(*, event: dict[str, Any], body: str) -> bool:
    """Store a verified event once and wake the processor; False if it was stored already."""
    event_id, kind = event.get("id"), event.get("event")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or not kind:
        raise NotAnEventError("Not an event.")
    participant = event.get("participant") or {}
    return INBOX.store(
        {
            "event_id": event_id[:255],
            "type": kind[:64],
            "room_name": str(
                (event.get("room") or {}).get("name") or recordings.room_name_of(event)
            )[:128],
            "identity": str(participant.get("identity") or "")[:128],
            "participant_sid": str(participant.get("sid") or "")[:128],
            "created_at": event_time(event.get("createdAt")),
            "payload": db.JsonText(body),
        },
    )


@transaction.atomic
def apply(event: LiveKitEvent) -> None:
    """Rebuild what `event` changes; rooms Lectern didn't make and other types change nothing."""
    if event.type in recordings.EGRESS_EVENTS:
        recordings.apply_egress(event)
        return
    if event.type not in (*_CONNECTION_EVENTS, STARTED, FINISHED) or not event.room_name:
        return
    room = (
        LiveRoom.objects.select_for_update(of=("self",))
        .select_related("item__course")
        .filter(name=event.room_name)
        .first()
    )
    if room is None:
        return
    if event.type in (STARTED, FINISHED):
        _set_room_times(room)
    if event.type == FINISHED:
        _room_finished(room)
    elif event.identity:
        rebuild_intervals(room=room, identity=event.identity)
        if room.finished_at is not None and not room.intervals.filter(left_at=None).exists():
            # A straggler of a finished room: the sheet filled at the finish learns of it.
            attendance.fill_attendance(room)


def _set_room_times(room: LiveRoom) -> None:
    times = LiveKitEvent.objects.filter(room_name=room.name).aggregate(
        started=Min("created_at", filter=Q(type=STARTED)),
        finished=Max("created_at", filter=Q(type=FINISHED)),
    )
    room.started_at, room.finished_at = times["started"], times["finished"]
    room.save(update_fields=["started_at", "finished_at"])


def _room_finished(room: LiveRoom) -> None:
    """Rebuild everyone's intervals; fill attendance now, or once LiveKit has been asked.

    Finishing closes every connection opened before it, so usually nothing is
    left to compare with LiveKit's participant list and the room counts as
    reconciled at once. A connection still open (it began after this finish)
    waits for `live.reconcile`, which runs after commit, outside the lock.
    """
    if rebuild_room(room=room):
        outbox.enqueue_task_on_commit(jobs.task(RECONCILE_TASK), room.pk)
        return
    attendance.fill_attendance(room)
    room.reconciled_at = timezone.now()
    room.save(update_fields=["reconciled_at"])


def rebuild_intervals(*, room: LiveRoom, identity: str) -> None:
    """Make `identity`'s intervals in `room` what the stored events say. The room is locked."""
    rebuild_room(room=room, identities=[identity])


type Span = tuple[datetime, datetime | None, str]


def rebuild_room(*, room: LiveRoom, identities: Collection[str] | None = None) -> int:
    """Make the intervals and participations of `identities` (everyone: None) what events say.

    The room must be locked. A fixed number of queries whatever the number of
    people or events: the events in one read, the intervals in another, the
    changes in one upsert each. Intervals whose events are no longer known
    (their content was emptied after 30 days) are left as they were: what was
    recorded stays recorded. Return how many intervals are still open.
    """
    events = LiveKitEvent.objects.filter(room_name=room.name)
    intervals = ParticipantInterval.objects.filter(room=room)
    if identities is None:
        connections = Q(type__in=_INTERVAL_EVENTS) & ~Q(identity="")
    else:
        connections = Q(type__in=_INTERVAL_EVENTS, identity__in=identities)
        intervals = intervals.filter(identity__in=identities)
    rows = events.filter(connections | Q(type=FINISHED)).values_list(
        "type", "identity", "participant_sid", "created_at"
    )
    finishes: list[datetime] = []
    by_identity: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
    for kind, identity, sid, at in rows:
        if kind == FINISHED:
            finishes.append(at)
        else:
            by_identity[identity].append((kind, sid, at))
    finishes.sort()
    wanted = {
        identity: spans_from_events(connection_events, finishes)
        for identity, connection_events in by_identity.items()
    }
    current: dict[str, dict[str, attendance.Interval]] = defaultdict(dict)
    for identity, sid, joined_at, left_at, closed_by, user_id in intervals.values_list(
        "identity", "participant_sid", "joined_at", "left_at", "closed_by", "user_id"
    ):
        current[identity][sid] = attendance.Interval(joined_at, left_at, closed_by, user_id)
    changed = _changes(wanted, current)
    if changed:
        _upsert_intervals(room, changed)
        for identity, sid, interval in changed:
            current[identity][sid] = interval
        # Only the people whose intervals moved: the others' minutes are as they were.
        touched = {identity for identity, _, _ in changed}
        attendance.refresh_participations(room, {i: current[i] for i in touched})
    return sum(
        1 for spans in current.values() for interval in spans.values() if interval.left_at is None
    )


def _upsert_intervals(room: LiveRoom, rows: list[tuple[str, str, attendance.Interval]]) -> None:
    """Insert new intervals and update moved ones in one statement, however many there are.

    On PostgreSQL the rows travel as one array per column (`unnest`), so the
    statement has seven parameters whether it writes ten rows or ten
    thousand; row-by-row parameters would hit the 65,535 a statement may have
    and be split. Other databases take the ORM's batches.
    """
    if connection.vendor != "postgresql":
        ParticipantInterval.objects.bulk_create(
            [
                ParticipantInterval(
                    room=room,
                    identity=identity,
                    participant_sid=sid,
                    user_id=interval.user_id,
                    joined_at=interval.joined_at,
                    left_at=interval.left_at,
                    closed_by=interval.closed_by,
                )
                for identity, sid, interval in rows
            ],
            update_conflicts=True,
            unique_fields=["room", "identity", "participant_sid"],
            update_fields=["joined_at", "left_at", "closed_by"],
        )
        return
    table = connection.ops.quote_name(ParticipantInterval._meta.db_table)
    sql = f"""
        INSERT INTO {table}
            (room_id, identity, participant_sid, user_id, joined_at, left_at, closed_by)
        SELECT %s, * FROM unnest(
            %s::text[], %s::text[], %s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::text[]
        )
        ON CONFLICT (room_id, identity, participant_sid) DO UPDATE SET
            joined_at = excluded.joined_at,
            left_at = excluded.left_at,
            closed_by = excluded.closed_by
    """  # noqa: S608 (only the model's own table name is put in the SQL)  # nosec B608
    columns: list[list[Any]] = [
        [identity for identity, _, _ in rows],
        [sid for _, sid, _ in rows],
        [interval.user_id for _, _, interval in rows],
        [interval.joined_at for _, _, interval in rows],
        [interval.left_at for _, _, interval in rows],
        [interval.closed_by for _, _, interval in rows],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [room.pk, *columns])


def _changes(
    wanted: dict[str, dict[str, Span]], current: dict[str, dict[str, attendance.Interval]]
) -> list[tuple[str, str, attendance.Interval]]:
    """Return the intervals to write: new connections, and known ones whose span moved.

    A new interval belongs to the account its identity stands for, if that
    account still exists; a known one keeps the account it has.
    """
    changed: list[tuple[str, str, Span, int | None]] = []
    for identity, spans in wanted.items():
        known = current.get(identity, {})
        for sid, span in spans.items():
            interval = known.get(sid)
            if interval is None:
                changed.append((identity, sid, span, services.user_id_for(identity)))
            elif (interval.joined_at, interval.left_at, interval.closed_by) != span:
                changed.append((identity, sid, span, interval.user_id))
    candidates = {user_id for *_, user_id in changed if user_id is not None}
    existing = (
        set(get_user_model().objects.filter(pk__in=candidates).values_list("pk", flat=True))
        if candidates
        else set()
    )
    return [
        (identity, sid, attendance.Interval(*span, user_id if user_id in existing else None))
        for identity, sid, span, user_id in changed
    ]


def spans_from_events(
    events: Iterable[tuple[str, str, datetime]], finishes: Sequence[datetime]
) -> dict[str, Span]:
    """Return one person's spans by connection id, from their (type, sid, time) events.

    `finishes` are the room's `room_finished` times, in order. A connection
    closes at its reported leaving; without one, at the first of: the same
    person joining again, the room finishing, or a leave stored by
    reconciliation. A leave LiveKit reports, however late, wins over
    reconciliation's estimate.
    """
    joins: dict[str, datetime] = {}
    leaves: dict[str, datetime] = {}
    reconciled: dict[str, datetime] = {}
    for kind, sid, at in events:
        if kind == JOINED:
            joins[sid] = min(at, joins.get(sid, at))
        elif kind == LEFT:
            leaves[sid] = max(at, leaves.get(sid, at))
        else:
            reconciled[sid] = min(at, reconciled.get(sid, at))
    ordered = sorted(joins.items(), key=lambda pair: (pair[1], pair[0]))
    spans: dict[str, Span] = {}
    for position, (sid, joined_at) in enumerate(ordered):
        if sid in leaves:
            spans[sid] = (joined_at, max(joined_at, leaves[sid]), ClosedBy.EVENT)
            continue
        after = bisect.bisect_left(finishes, joined_at)
        candidates = [
            (at, why)
            for at, why in (
                (ordered[position + 1][1] if position + 1 < len(ordered) else None, ClosedBy.EVENT),
                (finishes[after] if after < len(finishes) else None, ClosedBy.ROOM_FINISHED),
                (reconciled.get(sid), ClosedBy.RECONCILIATION),
            )
            if at is not None
        ]
        if candidates:
            at, why = min(candidates, key=lambda pair: pair[0])
            spans[sid] = (joined_at, max(joined_at, at), why)
        else:
            spans[sid] = (joined_at, None, "")
    return spans


INBOX = Inbox(
    model=LiveKitEvent,
    name="live:livekit-events",
    process_task=PROCESS_TASK,
    drain_task=DRAIN_TASK,
    apply=apply,
    order_by=("created_at",),
    max_attempts=8,
)
process = INBOX.process
drain = INBOX.drain
due_event_ids = INBOX.due_ids
