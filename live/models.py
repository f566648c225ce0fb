"""Live rooms on LiveKit, the webhook events LiveKit sends about them, and who was there when."""

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from outbox.inbox import InboxEvent


class LiveRoom(models.Model):
    """The LiveKit room of one session item, created the first time someone joins.

    `name` is what LiveKit knows the room by: a random id, so nothing at
    LiveKit names a course or a person. The times are LiveKit's own, from its
    `room_started` and `room_finished` events.
    """

    item = models.OneToOneField(
        "courses.CourseItem", on_delete=models.CASCADE, related_name="live_room"
    )
    name = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Identities the teacher invited on stage (they may publish) and removed (no new token).
    on_stage = models.JSONField(default=list, blank=True)
    removed = models.JSONField(default=list, blank=True)
    # The teacher ended the session for everyone.
    ended_at = models.DateTimeField(null=True, blank=True)
    # The last time LiveKit's participant list was compared with our intervals.
    reconciled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class LiveKitEvent(InboxEvent):
    """One LiveKit webhook event, stored once by its id and processed in the background.

    The columns a participant's intervals are rebuilt from are kept apart from
    the payload, which is emptied after 30 days (`live.privacy`).
    """

    Status = InboxEvent.Status

    type = models.CharField(max_length=64)
    room_name = models.CharField(max_length=128, blank=True)
    identity = models.CharField(max_length=128, blank=True)
    participant_sid = models.CharField(max_length=128, blank=True)
    # When LiveKit says the event happened, not when it reached us.
    created_at = models.DateTimeField()
    payload = models.JSONField()

    class Meta(InboxEvent.Meta):
        indexes = [
            models.Index(fields=["room_name", "identity"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class ParticipantInterval(models.Model):
    """One connection of one person to a room: from joining until leaving.

    A person who reconnects has several; their attendance is the union.
    `identity` is the opaque id the person had in the room; `user` is empty
    once it can no longer be resolved to an account.
    """

    class ClosedBy(models.TextChoices):
        EVENT = "event", _("Leaving, as LiveKit reported it")
        ROOM_FINISHED = "room_finished", _("The room finishing")
        RECONCILIATION = "reconciliation", _("Reconciliation with LiveKit's participant list")

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="intervals")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    identity = models.CharField(max_length=128)
    # LiveKit's id of this one connection: a reconnect is a new one.
    participant_sid = models.CharField(max_length=128)
    joined_at = models.DateTimeField(_("joined"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    closed_by = models.CharField(max_length=16, choices=ClosedBy.choices, blank=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        indexes = [models.Index(fields=["room", "identity"])]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "identity", "participant_sid"], name="interval_once_per_connection"
            ),
            models.CheckConstraint(
                condition=models.Q(left_at__isnull=True)
                | models.Q(left_at__gte=models.F("joined_at")),
                name="interval_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identity} in {self.room_id}"


class Participation(models.Model):
    """One person's time in one room: the union of their intervals, kept up to date with them.

    Attendance and the teacher's monthly participant-minutes are read from
    here, so neither has to walk the intervals.
    """

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    identity = models.CharField(max_length=128)
    first_joined_at = models.DateTimeField()
    last_left_at = models.DateTimeField(null=True, blank=True)
    # Seconds in the room, overlapping connections counted once; open intervals not yet counted.
    seconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["first_joined_at", "pk"]
        indexes = [models.Index(fields=["first_joined_at"])]
        constraints = [
            models.UniqueConstraint(fields=["room", "identity"], name="participation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.identity} in {self.room_id}"

    @property
    def minutes(self) -> int:
        return round(self.seconds / 60)


class Recording(models.Model):
    """A recording of a session's room, made by LiveKit's egress into our storage."""

    class Status(models.TextChoices):
        STARTING = "starting", _("Starting")
        RECORDING = "recording", _("Recording")
        ENDING = "ending", _("Finishing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="recordings")
    egress_id = models.CharField(max_length=128, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STARTING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Where egress writes the file, as a key in the recordings storage.
    storage_key = models.CharField(max_length=512)
    created_at = models.DateTimeField(default=now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Recording {self.egress_id}"
