"""What messaging holds about people, and how it is exported and erased.

Messages are kept while their conversation exists: deleting a course removes
its channel and groups with every message in them (database cascades; attached
files through `delete_files` in the course's own deletion). Erasing an account
removes the person's messages, reactions, read state and files everywhere, and
their direct conversations whole, since half of a two-person conversation
means little to the other. Group conversations go on for the others.

Messages in course channels and groups are deleted, not kept under "Deleted
user": what someone wrote is theirs and often identifies them by its content
alone, so anonymising it would not erase it. Replies from others stay, and
read without the deleted message as they would after the author deleted it.

The export holds the person's own messages and reactions and, for each
conversation they are in, its metadata (kind, course, name, size, dates), never
other people's messages.
"""

from collections.abc import Iterator
from itertools import batched
from typing import Any

from django.db.models import Count, Q

from files import services as files
from files.models import StoredFile
from messaging import access
from messaging.models import Attachment, Conversation, Message, Participant, Reaction
from privacy.registry import EXPORT_CHUNK, Retention, register

_MESSAGES_ERASED = "Deleted everywhere, in course channels and groups too, with the files you sent"
_WHILE_CONVERSATION = (
    "While the conversation exists; deleting the course or your account removes it"
)


def _delete_files_of(messages: Any) -> int:
    return files.erase_files(StoredFile.objects.filter(message_attachment__message__in=messages))


def _export_conversations(user: Any) -> Iterator[dict[str, Any]]:
    """Return the metadata of every conversation `user` is in or started."""
    rows = (
        Conversation.objects.filter(
            Q(pk__in=access.conversations_for(user).values("pk")) | Q(created_by=user)
        )
        .select_related("course")
        .annotate(people=Count("participants", distinct=True))
        .order_by("pk")
    )
    for c in rows.iterator(chunk_size=EXPORT_CHUNK):
        yield {
            "id": c.pk,
            "kind": c.kind,
            "course": c.course.title if c.course else None,
            "name": c.title,
            "started_by_you": c.created_by_id == user.pk,
            "people_listed": c.people if c.kind != Conversation.Kind.CHANNEL else None,
            "created_at": c.created_at,
            "last_message_at": c.last_message_at,
        }


_CONVERSATION_SCHEMA = {
    "id": "The conversation's id; messages refer to it as conversation_id",
    "kind": "channel (a course's channel), direct (two people) or group",
    "course": "The title of the course the conversation belongs to, if any",
    "name": "The group's name, if it has one",
    "started_by_you": "Whether you started the conversation",
    "people_listed": "How many people take part (not given for course channels)",
    "created_at": "When the conversation was started",
    "last_message_at": "When its latest message was written",
}


def _erase_conversations(user: Any) -> int:
    """Delete `user`'s direct conversations whole; groups and channels stay for the others."""
    ids = list(
        Conversation.objects.filter(
            kind=Conversation.Kind.DIRECT, participants__user=user
        ).values_list("pk", flat=True)
    )
    _delete_files_of(Message.objects.filter(conversation__in=ids))
    deleted, _ = Conversation.objects.filter(pk__in=ids).delete()
    return deleted


def _export_messages(user: Any) -> Iterator[dict[str, Any]]:
    # Plain rows and one attachment query per chunk: model instances with prefetched
    # relations form reference cycles that outlive their chunk until the garbage
    # collector runs, and the export's memory would then grow with the account.
    rows = (
        Message.objects.filter(author=user)
        .order_by("pk")
        .values("id", "conversation_id", "body", "created_at", "edited_at", "deleted_at")
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    for chunk in batched(rows, EXPORT_CHUNK):
        names: dict[int, list[str]] = {}
        attached = Attachment.objects.filter(message__in=[m["id"] for m in chunk]).order_by("pk")
        for message_id, name in attached.values_list("message_id", "file__original_name"):
            names.setdefault(message_id, []).append(name)
        for m in chunk:
            yield {**m, "attachments": names.get(m["id"], [])}


_MESSAGE_SCHEMA = {
    "id": "The message's id",
    "conversation_id": "The conversation it was written in (see Conversations)",
    "body": "What you wrote, in Markdown",
    "created_at": "When you sent it",
    "edited_at": "When you last edited it, if you did",
    "deleted_at": "When you deleted it, if you did (the text is then empty)",
    "attachments": "The names of the files you sent with it (the files are in files/)",
}


def _erase_messages(user: Any) -> int:
    own = Message.objects.filter(author=user)
    _delete_files_of(own)
    deleted, _ = own.delete()
    return deleted


def _erase_attachments(user: Any) -> int:
    return _delete_files_of(Message.objects.filter(author=user))


register(
    Conversation,
    category="Conversations",
    purpose="The course channels, direct messages and groups you take part in",
    owner="created_by",
    dated_by="created_at",
    exporter=_export_conversations,
    schema=_CONVERSATION_SCHEMA,
    eraser=_erase_conversations,
    erasure_note="Direct conversations are deleted whole, for both people; course channels and "
    "groups go on for the others without you",
    retention=Retention("While the course exists, or until you or the other person leave Lectern"),
)
register(
    Message,
    category="Messages",
    purpose="The messages you write, shown to the people in the conversation",
    owner="author",
    dated_by="created_at",
    exporter=_export_messages,
    schema=_MESSAGE_SCHEMA,
    eraser=_erase_messages,
    erasure_note=_MESSAGES_ERASED,
    retention=Retention(_WHILE_CONVERSATION),
)
register(
    Attachment,
    category="Messages",
    purpose="Files you send with your messages",
    owner="message__author",
    fields=["message_id", "file_id"],
    eraser=_erase_attachments,
    erasure_note=_MESSAGES_ERASED,
    retention=Retention(_WHILE_CONVERSATION),
)
register(
    Reaction,
    category="Message reactions",
    purpose="The reactions you give to messages",
    owner="user",
    dated_by="created_at",
    fields=["message_id", "emoji", "created_at"],
    retention=Retention(_WHILE_CONVERSATION),
)
register(
    Participant,
    category="Read receipts and conversation state",
    purpose=(
        "The last message you read in each conversation (for unread counts and, if you "
        "allow it, read receipts) and whether a teacher muted you in a course channel"
    ),
    owner="user",
    dated_by="joined_at",
    fields=["conversation_id", "last_read_message_id", "last_read_at", "joined_at", "muted_at"],
    retention=Retention(_WHILE_CONVERSATION),
)
