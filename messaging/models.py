"""Conversations, their messages, reactions, attachments and each person's read state.

Who belongs to a conversation is worked out, not copied:

- a course channel's members are the course's teacher and its actively
  enrolled students, read straight from `Enrollment`, so joining, leaving or
  being removed from a course changes the channel at once, with nothing to
  keep in step;
- a direct or group conversation lists its people as `Participant` rows; a
  group also needs each student to be still enrolled in its course.

`Participant` is also where a person's state in any conversation lives (the
last message they read, a teacher's mute in a channel). Channel rows are made
lazily, the first time someone opens the channel or is muted in it.

`Conversation.version` goes up by one with every change a reader can see (a
message posted, edited, deleted or reacted to, or a read receipt moving), and
each message keeps the version of its last change. A poll then asks "anything
after version v?" with one indexed query, and the version doubles as the ETag.
"""

from html import unescape

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

# A fixed set, so a reaction is a choice rather than free text.
EMOJI = ("👍", "❤️", "😂", "🎉", "😮", "🙏")
EMOJI_NAMES = {
    "👍": "thumbs up",
    "❤️": "heart",
    "😂": "laughing",
    "🎉": "party",
    "😮": "surprised",
    "🙏": "thank you",
}
EMOJI_CHOICES = [(e, EMOJI_NAMES[e]) for e in EMOJI]


class Conversation(models.Model):
    class Kind(models.TextChoices):
        CHANNEL = "channel", _("Course channel")
        DIRECT = "direct", _("Direct message")
        GROUP = "group", _("Group")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Channels and groups belong to a course and go with it; a direct conversation
    # belongs to its two people, who may share several courses.
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.CASCADE,
        related_name="conversations",
        null=True,
        blank=True,
    )
    title = models.CharField(_("name"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    # "<lower pk>:<higher pk>" for direct conversations, so a pair has only one.
    direct_key = models.CharField(max_length=41, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_message = models.ForeignKey(
        "messaging.Message",
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course"], condition=Q(kind="channel"), name="one_channel_per_course"
            ),
            models.CheckConstraint(
                condition=Q(kind="direct", course__isnull=True)
                | (~Q(kind="direct") & Q(course__isnull=False)),
                name="conversation_course_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.CHANNEL:
            return f"Channel of course {self.course_id}"
        return self.title or f"{self.get_kind_display()} {self.pk}"

    @property
    def is_channel(self) -> bool:
        return self.kind == self.Kind.CHANNEL


class Participant(models.Model):
    """One person's place and state in a conversation."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_states"
    )
    # A plain id, not a foreign key: deleting the message must not move the pointer.
    last_read_message_id = models.PositiveBigIntegerField(default=0)
    last_read_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    muted_at = models.DateTimeField(null=True, blank=True)
    muted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="participant_once"),
        ]
        indexes = [models.Index(fields=["user", "conversation"])]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.conversation_id}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages"
    )
    body = models.TextField(_("message"))
    # Rendered and sanitised once on write: a page shows 50 messages, a poll many more.
    body_html = models.TextField(editable=False)
    # The `core.markdown.RENDERER_VERSION` that produced `body_html` (0: not known). HTML
    # from an older renderer is rendered again when read (`services.refresh_html`).
    html_version = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_history"),
            models.Index(fields=["conversation", "version"], name="message_changes"),
            # Messages written or edited lately, for scans over every conversation.
            models.Index(fields=["created_at"], name="message_written"),
            models.Index(fields=["edited_at"], name="message_edited"),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} in {self.conversation_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_moderated(self) -> bool:
        return self.deleted_at is not None and self.deleted_by_id not in (None, self.author_id)

    @property
    def preview(self) -> str:
        """Return the message as one line of plain text, for lists and notifications."""
        return " ".join(unescape(strip_tags(self.body_html)).split())


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_reactions"
    )
    emoji = models.CharField(max_length=8, choices=EMOJI_CHOICES)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_once"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on {self.message_id}"


class Attachment(models.Model):
    """A stored file sent with a message; only the conversation's people may download it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.OneToOneField(
        "files.StoredFile", on_delete=models.CASCADE, related_name="message_attachment"
    )

    def __str__(self) -> str:
        return f"File {self.file_id} on message {self.message_id}"
