"""What live classes hold about people.

Participation intervals are attendance records: kept with the course's
attendance, and deleted with the course or the person's account. Webhook
events keep the ids that stop them being applied twice; what they said,
including the participant's identity in the room, is emptied after 30 days.
"""

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from live.models import LiveKitEvent, LiveRoom, ParticipantInterval
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
