"""A session's recordings: started and stopped by its teacher, made by LiveKit, watched later.

1. `start` asks LiveKit's egress to record the room into our bucket under a
   fresh key, and stores a STARTING `Recording` with the egress id, with the
   room's row locked: one recording at a time per room, and an egress event
   arriving early waits for the row to exist.
2. LiveKit's `egress_started/updated/ended` webhooks move it on
   (`apply_egress`). They can arrive late, twice or shuffled, so a recording
   only moves forward (STARTING → RECORDING → ENDING → READY or FAILED): a
   late "started" never undoes an "ended".
3. The teacher and the actively enrolled students see the READY ones on the
   session (`links_for`); `live:recording` checks access again before it
   redirects to a short-lived signed URL.

The files go with their rows: deleting a recording's row (the course or the
session deleted, the retention period over) removes its file from storage
once the deletion commits; erasing the teacher's account removes the files
first.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import dateformat, timezone

from courses import access
from courses import live as course_live
from courses.models import CourseItem
from live import client
from live.models import LiveKitEvent, LiveRoom, Recording

log = logging.getLogger(__name__)

Status = Recording.Status
ACTIVE = (Status.STARTING, Status.RECORDING)
# How far along each status is: a recording never moves back.
_PROGRESS = {
    Status.STARTING: 0,
    Status.RECORDING: 1,
    Status.ENDING: 2,
    Status.READY: 3,
    Status.FAILED: 3,
}
# LiveKit's egress statuses (by name, and by number as protobuf numbers them).
_FROM_EGRESS = {
    "EGRESS_STARTING": Status.STARTING,
    "EGRESS_ACTIVE": Status.RECORDING,
    "EGRESS_ENDING": Status.ENDING,
    "EGRESS_COMPLETE": Status.READY,
    "EGRESS_FAILED": Status.FAILED,
    "EGRESS_ABORTED": Status.FAILED,
    # Stopped at LiveKit's time limit: the file up to then is complete.
    "EGRESS_LIMIT_REACHED": Status.READY,
}
_EGRESS_NUMBERS = dict(enumerate(_FROM_EGRESS))
EGRESS_EVENTS = ("egress_started", "egress_updated", "egress_ended")


class RecordingRefusedError(Exception):
    """A recording that can't be started or stopped now; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def may_watch(item: CourseItem, viewer: Any) -> bool:
    """Say whether `viewer` may watch the recordings of `item` (`item.course` loaded)."""
    if not getattr(viewer, "is_authenticated", False):
        return False
    if item.course.teacher_id == viewer.pk:
        return True
    return item.published and access.get_enrollment(viewer, item.course) is not None


def links_for(item: CourseItem, viewer: Any) -> list[course_live.RecordingLink]:
    """Return the ready recordings of `item`'s room that `viewer` may watch, oldest first."""
    if not may_watch(item, viewer):
        return []
    recordings = Recording.objects.filter(room__item=item, status=Recording.Status.READY).order_by(
        "started_at", "created_at", "pk"
    )
    is_teacher = item.course.teacher_id == viewer.pk
    return [
        course_live.RecordingLink(
            title=_title(number, recording),
            url=reverse("live:recording", args=[recording.pk]),
            duration_seconds=recording.duration_seconds,
            size_bytes=recording.size_bytes,
            delete_url=reverse("live:recording_delete", args=[recording.pk]) if is_teacher else "",
        )
        for number, recording in enumerate(recordings, start=1)
    ]


def _title(number: int, recording: Recording) -> str:
    started = recording.started_at or recording.created_at
    return f"Recording {number} ({dateformat.format(timezone.localtime(started), 'D j M, H:i')})"


def get_recording_for_viewer(viewer: Any, recording_id: int) -> Recording:
    """Return a ready recording `viewer` may watch; 404 for any other, or anyone else."""
    recording = (
        Recording.objects.select_related("room__item__course")
        .filter(pk=recording_id, status=Status.READY)
        .first()
    )
    if recording is None or not may_watch(recording.room.item, viewer):
        raise Http404
    return recording


def delete(*, teacher: Any, recording_id: int) -> Recording:
    """Delete one of `teacher`'s recordings; its file goes once that commits (`forget_file`).

    Only a finished one: a recording still being written would land in storage
    after its row is gone. Any other is a 404.
    """
    recording = get_object_or_404(
        Recording.objects.select_related("room__item__course"),
        pk=recording_id,
        room__item__course__teacher=teacher,
        status__in=[Status.READY, Status.FAILED],
    )
    recording.delete()
    return recording


def file_name(recording: Recording) -> str:
    """Return the name a recording's file is offered under: the session's title and date."""
    item = recording.room.item
    started = timezone.localtime(recording.started_at or recording.created_at)
    return f"{item.title} {started:%Y-%m-%d %H%M}.mp4"


# --- Starting and stopping -------------------------------------------------------------------


@transaction.atomic
def start(*, room: LiveRoom, teacher: Any) -> Recording:
    """Start recording the room; raise RecordingRefusedError, or LiveKitUnavailableError."""
    room = LiveRoom.objects.select_for_update().get(pk=room.pk)
    if room.ended_at is not None:
        raise RecordingRefusedError("This session has ended.")
    if Recording.objects.filter(room=room, status__in=ACTIVE).exists():
        raise RecordingRefusedError("A recording is already running.")
    key = client.recording_key(room.name)
    try:
        egress_id = client.start_room_composite_egress(room.name, key)
    except client.RoomNotOpenError as error:
        raise RecordingRefusedError(str(error)) from error
    return Recording.objects.create(
        room=room, egress_id=egress_id, status=Status.STARTING, started_by=teacher, storage_key=key
    )


@transaction.atomic
def stop(*, room: LiveRoom) -> Recording:
    """Stop the room's running recording; LiveKit's webhooks say when its file is ready."""
    room = LiveRoom.objects.select_for_update().get(pk=room.pk)
    recording = (
        Recording.objects.select_for_update()
        .filter(room=room, status__in=ACTIVE)
        .order_by("-created_at", "-pk")
        .first()
    )
    if recording is None:
        raise RecordingRefusedError("No recording is running.")
    client.stop_egress(recording.egress_id)
    recording.status = Status.ENDING
    recording.save(update_fields=["status"])
    return recording


# --- LiveKit's egress events -----------------------------------------------------------------


def room_name_of(event: dict[str, Any]) -> str:
    """Return the room an egress event is about (it carries no `room`)."""
    return str((event.get("egressInfo") or {}).get("roomName") or "")


@transaction.atomic
def apply_egress(event: LiveKitEvent) -> None:
    """Move the event's recording forward to what LiveKit says; never back.

    The room's row is locked first: a recording being started holds it until
    its row is stored, so an early event finds it.
    """
    info = (event.payload or {}).get("egressInfo") or {}
    egress_id = info.get("egressId")
    status = _status(info.get("status"))
    if not egress_id or status is None:
        return
    room_name = str(info.get("roomName") or event.room_name)
    if room_name:
        LiveRoom.objects.select_for_update().filter(name=room_name).first()
    recording = Recording.objects.select_for_update().filter(egress_id=egress_id).first()
    if recording is None or _PROGRESS[status] < _PROGRESS[Status(recording.status)]:
        return
    if _PROGRESS[status] == _PROGRESS[Status(recording.status)] and recording.status != status:
        return  # READY and FAILED are both final: the first one LiveKit reported stands
    recording.status = status
    file = _file_result(info)
    recording.started_at = (
        _nanos(info.get("startedAt")) or _nanos(file.get("startedAt")) or recording.started_at
    )
    if status in (Status.READY, Status.FAILED):
        recording.ended_at = (
            _nanos(info.get("endedAt")) or _nanos(file.get("endedAt")) or event.created_at
        )
        duration = _int(file.get("duration"))
        if duration is None and recording.started_at and recording.ended_at:
            duration = int((recording.ended_at - recording.started_at).total_seconds() * 1e9)
        recording.duration_seconds = round(duration / 1e9) if duration is not None else None
        recording.size_bytes = _int(file.get("size"))
    if status == Status.FAILED:
        recording.error = str(info.get("error") or "LiveKit stopped the recording.")[:2000]
    recording.save(
        update_fields=[
            "status",
            "started_at",
            "ended_at",
            "duration_seconds",
            "size_bytes",
            "error",
        ]
    )


def _status(value: Any) -> Status | None:
    if isinstance(value, int):
        value = _EGRESS_NUMBERS.get(value)
    return _FROM_EGRESS.get(str(value or "EGRESS_STARTING"))


def _file_result(info: dict[str, Any]) -> dict[str, Any]:
    results = info.get("fileResults") or []
    if results and isinstance(results[0], dict):
        return results[0]
    return info.get("file") or {}


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _nanos(value: Any) -> datetime | None:
    """Return LiveKit's nanoseconds-since-epoch (int64 as a string) as a UTC datetime."""
    number = _int(value)
    if not number:
        return None
    try:
        return datetime.fromtimestamp(number / 1e9, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


# --- Files in storage ------------------------------------------------------------------------


def erase_recordings(recordings: Any) -> int:
    """Delete the files from storage first, then their rows; for erasing an account.

    A recording still running is stopped first, so LiveKit writes no file
    after its row is gone. A storage failure raises, and the erasure is tried
    again later with nothing lost.
    """
    rows = list(recordings)
    for recording in rows:
        if recording.status in ACTIVE:
            try:
                client.stop_egress(recording.egress_id)
            except client.LiveKitUnavailableError:
                log.warning("Recording %s couldn't be stopped at LiveKit", recording.egress_id)
        if recording.storage_key and settings.LIVE_RECORDINGS_BUCKET:
            client.delete_recording_file(recording.storage_key)
    Recording.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


def forget_file(sender: Any, instance: Recording, **kwargs: Any) -> None:
    """Remove a deleted recording's file from storage once the deletion commits.

    Connected to `post_delete`, so cascades (a course, a session deleted) take
    the files too. A file storage refuses to delete is logged, not raised: the
    deletion has already happened.
    """
    key = instance.storage_key
    if not key or not settings.LIVE_RECORDINGS_BUCKET:
        return

    def delete() -> None:
        try:
            client.delete_recording_file(key)
        except client.RecordingStorageError:
            log.exception("The file of deleted recording %s stays in storage", instance.egress_id)

    transaction.on_commit(delete)
