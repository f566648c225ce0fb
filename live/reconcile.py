"""Reconciliation: LiveKit's participant list settles what its webhooks left open.

A `participant_left` can be lost, and a room can end without its
`room_finished` reaching us. So, after a room finishes with someone still
open, and periodically for rooms past their session's end plus the join grace
that still have someone open (or were never checked), LiveKit is asked who is
in the room (`ListParticipants`):

- a connection we hold open that LiveKit no longer lists gets a leave, stored
  as an event of its own (`reconcile:<room>:<sid>`, type `reconciled_leave`)
  and the person's intervals are rebuilt from the stored events, as for any
  webhook. Intervals stay the product of events alone, so redelivered or
  shuffled webhooks give the same result afterwards; a real `participant_left`
  arriving later still wins over the estimate;
- someone LiveKit lists whose `participant_joined` never arrived gets a join
  (`reconcile:<room>:<sid>:joined`) at the time LiveKit says they joined.

When did someone who vanished leave? Somewhere between their join and now.
The leave is put at the reconciliation time, but never later than the
session's end plus the join grace (`services.join_window`): time in the room
counts towards the session it belongs to, and a connection forgotten overnight
doesn't count for hours. A room nobody is left open in is reconciled, and its
attendance filled; a room LiveKit no longer has (a `room_finished` we never
got) is the case where everyone is closed.

LiveKit unreachable: nothing is written and the room stays due; the next run
tries again.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from live import attendance, client, services, webhooks
from live.models import LiveKitEvent, LiveRoom, ParticipantInterval

log = logging.getLogger(__name__)

# Rooms looked at per periodic run, the longest overdue first.
BATCH = 100


@dataclass(frozen=True)
class Reconciliation:
    status: str  # "reconciled", "open" (people still in the room), "unreachable", "no room"
    closed: int = 0
    joined: int = 0
    filled: int = 0


def due_room_ids(now: datetime, limit: int = BATCH) -> list[int]:
    """Return rooms past their session's end plus grace with someone open, or never reconciled."""
    still_open = ParticipantInterval.objects.filter(room=OuterRef("pk"), left_at__isnull=True)
    candidates = (
        LiveRoom.objects.filter(item__starts_at__lt=now)
        .filter(Q(reconciled_at__isnull=True) | Exists(still_open))
        .select_related("item")
        .order_by("item__starts_at", "pk")
        .only("pk", "item__starts_at", "item__duration_minutes")
    )
    due = []
    for room in candidates.iterator(chunk_size=500):
        if services.join_window(room.item)[1] <= now:
            due.append(room.pk)
            if len(due) >= limit:
                break
    return due


def reconcile_room(room_id: int, *, now: datetime | None = None) -> Reconciliation:
    """Compare a room with LiveKit's participant list; close, open and fill what it shows."""
    now = now or timezone.now()
    room = LiveRoom.objects.filter(pk=room_id).first()
    if room is None:  # deleted with its session since
        return Reconciliation("no room")
    open_sids = set(
        ParticipantInterval.objects.filter(room=room, left_at__isnull=True).values_list(
            "participant_sid", flat=True
        )
    )
    listed: list[dict[str, Any]] = []
    if open_sids or room.finished_at is None:
        try:
            listed = client.list_participants(room.name)
        except client.LiveKitUnavailableError as error:
            log.warning("Couldn't reconcile live room %s: %s", room.name, error)
            return Reconciliation("unreachable")
    return _settle(room_id, listed, now)


@transaction.atomic
def _settle(room_id: int, listed: list[dict[str, Any]], now: datetime) -> Reconciliation:
    rooms = LiveRoom.objects.select_for_update(of=("self",)).select_related("item__course")
    room = rooms.get(pk=room_id)
    cutoff = min(now, services.join_window(room.item)[1])
    present = {p["sid"]: p for p in listed if p.get("sid") and p.get("identity")}
    known = set(
        ParticipantInterval.objects.filter(room=room).values_list("participant_sid", flat=True)
    )
    gone = list(
        ParticipantInterval.objects.filter(room=room, left_at__isnull=True)
        .exclude(participant_sid__in=present)
        .values_list("identity", "participant_sid", "joined_at")
    )
    leaves = [
        _event(
            room,
            f"reconcile:{room.name}:{sid}",
            webhooks.RECONCILED_LEAVE,
            identity,
            sid,
            max(joined_at, cutoff),
        )
        for identity, sid, joined_at in gone
    ]
    joins = [
        _event(
            room,
            f"reconcile:{room.name}:{sid}:joined",
            webhooks.JOINED,
            p["identity"],
            sid,
            p.get("joined_at") or now,
        )
        for sid, p in present.items()
        if sid not in known
    ]
    if leaves or joins:
        LiveKitEvent.objects.bulk_create([*leaves, *joins], ignore_conflicts=True)
        identities = sorted({event.identity for event in [*leaves, *joins]})
        webhooks.rebuild_room(room=room, identities=identities)
    still_open = ParticipantInterval.objects.filter(room=room, left_at__isnull=True).exists()
    filled = 0
    if not still_open:
        filled = attendance.fill_attendance(room)
    room.reconciled_at = now
    room.save(update_fields=["reconciled_at"])
    return Reconciliation(
        "open" if still_open else "reconciled",
        closed=len(leaves),
        joined=len(joins),
        filled=filled,
    )


def _event(
    room: LiveRoom, event_id: str, kind: str, identity: str, sid: str, at: datetime
) -> LiveKitEvent:
    """Return a stored event of reconciliation's own, applied by the caller at once."""
    return LiveKitEvent(
        event_id=event_id[:255],
        type=kind,
        room_name=room.name,
        identity=identity[:128],
        participant_sid=sid[:128],
        created_at=at,
        payload={"source": "reconciliation", "event": kind},
        status=LiveKitEvent.Status.DONE,
        processed_at=timezone.now(),
    )


def reconcile_due(now: datetime | None = None) -> int:
    """Reconcile every due room; return how many were looked at. Nothing without a server."""
    if not client.configured():
        return 0
    now = now or timezone.now()
    ids = due_room_ids(now)
    for room_id in ids:
        try:
            reconcile_room(room_id, now=now)
        except Exception:  # one room's failure must not stop the others; it stays due
            log.exception("Reconciling live room %s failed; the next run tries again", room_id)
    return len(ids)
