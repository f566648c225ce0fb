"""LiveKit's webhook events: stored once, then turned into intervals, in any order, any times.

1. The view verifies the JWT and body hash (`live.client.receive_webhook`);
   `receive` inserts a `LiveKitEvent` under its unique event id with
   `INSERT … ON CONFLICT DO NOTHING`: a duplicate stores nothing and is
   answered 200 like the first. Processing is enqueued once it commits.
2. `process(event_id)` claims the row with a conditional update, so a second
   worker finds nothing to do, then rebuilds what the event touches. A failure
   leaves the event pending with its error, for the periodic job
   (`due_event_ids`) to try again, up to `MAX_ATTEMPTS`; so does a worker that
   vanished once its lease runs out.
3. Intervals are never patched from one event: the room's row is locked and
   the intervals of each person concerned are rebuilt from every event stored
   for them, matched by LiveKit's connection id (`participant_sid`). Events
   arriving late, twice or shuffled therefore end in the same intervals, and
   only LiveKit's own timestamps matter, never arrival order:
   - a connection opens at its `participant_joined`, and closes at its
     `participant_left`;
   - one whose leaving was never reported closes when the same person joins
     again, or else at the first `room_finished` after it opened.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from core import db, jobs
from live import services
from live.models import LiveKitEvent, LiveRoom, ParticipantInterval
from outbox import services as outbox

log = logging.getLogger(__name__)

PROCESS_TASK = "live.tasks.process_livekit_event_task"
JOINED, LEFT = "participant_joined", "participant_left"
STARTED, FINISHED = "room_started", "room_finished"
_CONNECTION_EVENTS = (JOINED, LEFT)
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
# A pending event younger than this is still on its way through its own task.
RETRY_AFTER = timedelta(minutes=1)


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
    """Store a verified event once and process it after commit; False if it was stored already."""
    event_id, kind = event.get("id"), event.get("event")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or not kind:
        raise NotAnEventError("Not an event.")
    participant = event.get("participant") or {}
    stored = db.insert_unless_present(
        LiveKitEvent,
        "event_id",
        {
            "event_id": event_id[:255],
            "type": kind[:64],
            "room_name": str((event.get("room") or {}).get("name") or "")[:128],
            "identity": str(participant.get("identity") or "")[:128],
            "participant_sid": str(participant.get("sid") or "")[:128],
            "created_at": event_time(event.get("createdAt")),
            "payload": db.JsonText(body),
        },
    )
    if stored:
        outbox.enqueue_task_on_commit(jobs.task(PROCESS_TASK), event_id[:255])
    return stored


@dataclass(frozen=True)
class Outcome:
    status: str
    error: str = ""


def process(event_id: str) -> Outcome:
    """Claim a pending event, apply it, and record done or the error."""
    now = timezone.now()
    claimable = Q(status=LiveKitEvent.Status.PENDING) | Q(
        status=LiveKitEvent.Status.PROCESSING, lease_until__lt=now
    )
    claimed = LiveKitEvent.objects.filter(claimable, event_id=event_id).update(
        status=LiveKitEvent.Status.PROCESSING,
        lease_until=now + LEASE,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return Outcome("skipped")
    event = LiveKitEvent.objects.get(event_id=event_id)
    try:
        apply(event)
    except Exception as error:  # recorded on the row and tried again; nothing is lost
        log.exception("LiveKit event %s (%s) failed", event.event_id, event.type)
        status = (
            LiveKitEvent.Status.FAILED
            if event.attempts >= MAX_ATTEMPTS
            else LiveKitEvent.Status.PENDING
        )
        LiveKitEvent.objects.filter(pk=event.pk, attempts=event.attempts).update(
            status=status, lease_until=None, last_error=repr(error)[:2000]
        )
        return Outcome(status, repr(error))
    LiveKitEvent.objects.filter(pk=event.pk, attempts=event.attempts).update(
        status=LiveKitEvent.Status.DONE,
        processed_at=timezone.now(),
        lease_until=None,
        last_error="",
    )
    return Outcome(LiveKitEvent.Status.DONE)


def due_event_ids(limit: int = 500) -> list[str]:
    """Events left pending (a failure, a lost task) or whose worker vanished, oldest first."""
    now = timezone.now()
    due = Q(status=LiveKitEvent.Status.PENDING, received_at__lt=now - RETRY_AFTER) | Q(
        status=LiveKitEvent.Status.PROCESSING, lease_until__lt=now
    )
    return list(
        LiveKitEvent.objects.filter(due)
        .order_by("created_at", "pk")
        .values_list("event_id", flat=True)[:limit]
    )


@transaction.atomic
def apply(event: LiveKitEvent) -> None:
    """Rebuild what `event` changes; rooms Lectern didn't make and other types change nothing."""
    if event.type not in (*_CONNECTION_EVENTS, STARTED, FINISHED) or not event.room_name:
        return
    room = LiveRoom.objects.select_for_update().filter(name=event.room_name).first()
    if room is None:
        return
    if event.type in (STARTED, FINISHED):
        _set_room_times(room)
    if event.type == FINISHED:
        identities = (
            LiveKitEvent.objects.filter(room_name=room.name, type__in=_CONNECTION_EVENTS)
            .exclude(identity="")
            .values_list("identity", flat=True)
            .distinct()
        )
        for identity in sorted(set(identities)):
            rebuild_intervals(room=room, identity=identity)
    elif event.identity:
        rebuild_intervals(room=room, identity=event.identity)


def _set_room_times(room: LiveRoom) -> None:
    times = LiveKitEvent.objects.filter(room_name=room.name).aggregate(
        started=Min("created_at", filter=Q(type=STARTED)),
        finished=Max("created_at", filter=Q(type=FINISHED)),
    )
    room.started_at, room.finished_at = times["started"], times["finished"]
    room.save(update_fields=["started_at", "finished_at"])


def rebuild_intervals(*, room: LiveRoom, identity: str) -> None:
    """Make `identity`'s intervals in `room` what the stored events say. The room is locked."""
    wanted = _intervals_from_events(room, identity)
    existing = {
        interval.participant_sid: interval
        for interval in ParticipantInterval.objects.filter(room=room, identity=identity)
    }
    user_id = services.user_id_for(identity)
    for sid, (joined_at, left_at, closed_by) in wanted.items():
        interval = existing.pop(sid, None)
        if interval is None:
            ParticipantInterval.objects.create(
                room=room,
                identity=identity,
                participant_sid=sid,
                user_id=user_id,
                joined_at=joined_at,
                left_at=left_at,
                closed_by=closed_by,
            )
        elif (interval.joined_at, interval.left_at, interval.closed_by) != (
            joined_at,
            left_at,
            closed_by,
        ):
            interval.joined_at, interval.left_at, interval.closed_by = joined_at, left_at, closed_by
            interval.save(update_fields=["joined_at", "left_at", "closed_by"])
    # Intervals whose events are no longer known (their content was emptied after 30 days)
    # are left as they were: what was recorded stays recorded.


type Span = tuple[datetime, datetime | None, str]


def _intervals_from_events(room: LiveRoom, identity: str) -> dict[str, Span]:
    rows = LiveKitEvent.objects.filter(
        room_name=room.name, identity=identity, type__in=_CONNECTION_EVENTS
    ).values_list("type", "participant_sid", "created_at")
    joins: dict[str, datetime] = {}
    leaves: dict[str, datetime] = {}
    for kind, sid, at in rows:
        if kind == JOINED:
            joins[sid] = min(at, joins.get(sid, at))
        else:
            leaves[sid] = max(at, leaves.get(sid, at))
    finishes = sorted(
        LiveKitEvent.objects.filter(room_name=room.name, type=FINISHED).values_list(
            "created_at", flat=True
        )
    )
    ordered = sorted(joins.items(), key=lambda pair: (pair[1], pair[0]))
    spans: dict[str, Span] = {}
    for position, (sid, joined_at) in enumerate(ordered):
        if sid in leaves:
            spans[sid] = (
                joined_at,
                max(joined_at, leaves[sid]),
                ParticipantInterval.ClosedBy.EVENT,
            )
            continue
        rejoined = ordered[position + 1][1] if position + 1 < len(ordered) else None
        finished = next((at for at in finishes if at >= joined_at), None)
        candidates = [
            (at, why)
            for at, why in (
                (rejoined, ParticipantInterval.ClosedBy.EVENT),
                (finished, ParticipantInterval.ClosedBy.ROOM_FINISHED),
            )
            if at is not None
        ]
        if candidates:
            at, why = min(candidates, key=lambda pair: pair[0])
            spans[sid] = (joined_at, at, why)
        else:
            spans[sid] = (joined_at, None, "")
    return spans
