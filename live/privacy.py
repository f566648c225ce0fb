"""What live classes hold about people.

Participation intervals, and the minutes they add up to, are attendance
records: kept with the course's attendance, and deleted with the course or
the person's account. Webhook
events keep the ids that stop them being applied twice; what they said,
including the participant's identity in the room, is emptied after 30 days.
Recordings are the teacher's: their files are deleted with the course or the
session, with the teacher's account (files first), or once
LIVE_RECORDINGS_KEEP_DAYS have passed when that is set.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from live import recordings, services
from live.models import LiveKitEvent, LiveRoom, ParticipantInterval, Participation, Recording
from privacy.registry import Retention, exempt, register, rule

EVENT_PAYLOAD_KEEP = timedelta(days=30)


def _old_event_payloads() -> QuerySet:
    return LiveKitEvent.objects.filter(received_at__lt=timezone.now() - EVENT_PAYLOAD_KEEP).exclude(
        Q(payload={}) & Q(identity="")
    )


def _empty_payloads(rows: QuerySet) -> int:
    return LiveKitEvent.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).update(
        payload={}, identity="", participant_sid=""
    )


register(
    ParticipantInterval,
    category="Live class participation",
    purpose="When you were in each live session of your courses, to take attendance from it",
    owner="user",
    dated_by="joined_at",
    fields=["room_id", "joined_at", "left_at", "closed_by"],
    retention=Retention(
        "While the course exists, with its attendance; deleting the course or your account "
        "removes it"
    ),
)


def _erase_participations(user: Any) -> int:
    """Delete the person's minutes, and their identity from the events that could rebuild them."""
    deleted, _ = Participation.objects.filter(user=user).delete()
    LiveKitEvent.objects.filter(identity=services.identity_for(user)).update(
        payload={}, identity="", participant_sid=""
    )
    return deleted


register(
    Participation,
    category="Live class minutes",
    purpose=(
        "How long you were in each live session of your courses, in all: your attendance is "
        "filled from it, and your teacher's plan counts the minutes"
    ),
    owner="user",
    dated_by="first_joined_at",
    fields=["room_id", "first_joined_at", "last_left_at", "seconds"],
    eraser=_erase_participations,
    erasure_note=(
        "Deleted, and your identity in live rooms is removed from what LiveKit told us, so "
        "nothing can be rebuilt from it"
    ),
    retention=Retention(
        "While the course exists, with its attendance; deleting the course or your account "
        "removes it"
    ),
)
exempt(LiveRoom, reason="A session's room under a random name: no person's data.")
exempt(
    LiveKitEvent, reason="Swept by its own rule; payloads and identities are emptied after 30 days."
)
rule(
    "LiveKit webhook events",
    description="What LiveKit told us about live rooms and who joined or left them",
    retention=Retention(
        "The event's content is removed after 30 days; its id stays so it is never applied twice",
        period=EVENT_PAYLOAD_KEEP,
        expired=_old_event_payloads,
        purge=_empty_payloads,
    ),
)


def _recordings_past_keeping() -> QuerySet:
    days = settings.LIVE_RECORDINGS_KEEP_DAYS
    if not days:
        return Recording.objects.none()
    return Recording.objects.filter(created_at__lt=timezone.now() - timedelta(days=days))


def _erase_recordings(teacher: Any) -> int:
    return recordings.erase_recordings(
        Recording.objects.filter(room__item__course__teacher=teacher).order_by("pk")
    )


def _recordings_retention() -> Retention:
    days = settings.LIVE_RECORDINGS_KEEP_DAYS
    gone_with = "deleting the session, the course or your account removes them with their files"
    return Retention(
        f"{days} days, or less: {gone_with}" if days else f"While the course exists; {gone_with}",
        period=timedelta(days=days) if days else None,
        expired=_recordings_past_keeping,
        purge=recordings.erase_recordings,
    )


register(
    Recording,
    category="Live class recordings",
    purpose="Recordings of your live sessions, for your enrolled students to watch again",
    owner="room__item__course__teacher",
    dated_by="created_at",
    fields=[
        "room_id",
        "status",
        "started_by_id",
        "created_at",
        "started_at",
        "ended_at",
        "duration_seconds",
        "size_bytes",
    ],
    eraser=_erase_recordings,
    erasure_note="Deleted from storage with their files",
    erase_first=True,
    retention=_recordings_retention(),
)
