"""Every write to conversations: starting them, posting, editing, deleting, reacting, muting.

Each change a reader can see locks the conversation row and raises its
version by one (`_bump`): concurrent posts are ordered, `last_message`
always names the newest message, and the version is what polls compare.
"""

import functools
import logging
import operator
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.sql import UpdateQuery
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from accounts.models import User
from core import jobs, markdown
from core.db import atomic_with_sqlite_retry
from courses.models import Course, Enrollment
from courses.services.courses import concrete_user
from files import services as files
from files.models import StoredFile
from messaging import access, badge, live, selectors
from messaging.models import EMOJI, Attachment, Conversation, Message, Participant, Reaction
from notifications import services as notifications

logger = logging.getLogger(__name__)

Kind = Conversation.Kind
MAX_ATTACHMENTS = 5
NO_SHARED_COURSE = "You can message people you share a course with: their teacher or classmates."
# Enqueued by name: the tasks module imports this one (core.jobs explains why).
NOTIFY_TASK = "messaging.tasks.notify_unread_message_task"


_writes = atomic_with_sqlite_retry


def max_chars() -> int:
    return int(getattr(settings, "MESSAGE_MAX_CHARS", 10_000))


def clean_body(body: str, *, has_files: bool = False) -> str:
    """Return the message text to store, or raise ValidationError saying what is wrong."""
    body = (body or "").strip()
    if not body and not has_files:
        raise ValidationError("Write a message or attach a file.", code="empty")
    limit = max_chars()
    if len(body) > limit:
        raise ValidationError(
            f"Messages can be at most {limit:,} characters; this one has {len(body):,}. "
            "Split it in two, or attach it as a file.",
            code="too_long",
        )
    return body


def render_body(body: str) -> str:
    """Return a message text's sanitised HTML, as stored with `markdown.RENDERER_VERSION`."""
    return markdown.render_markdown(body) if body else ""


def _bump(conversation_id: int, **fields: Any) -> int:
    """Lock the conversation, raise its version by one and return the new version."""
    current = (
        Conversation.objects.select_for_update()
        .values_list("version", flat=True)
        .get(pk=conversation_id)
    )
    version = current + 1
    Conversation.objects.filter(pk=conversation_id).update(version=version, **fields)
    live.published(conversation_id, version)
    return version


def _renew_badges_in_courses(course_ids: list[int]) -> None:
    """Renew the kept unread totals of everyone in these courses: they have a new channel."""
    if not course_ids:
        return
    teachers = Course.objects.filter(pk__in=course_ids).values_list("teacher_id", flat=True)
    students = Enrollment.objects.filter(
        course_id__in=course_ids, status=Enrollment.Status.ACTIVE
    ).values_list("student_id", flat=True)
    live.renew_badges(list(set(teachers) | set(students)))


# --- Starting conversations ----------------------------------------------------------------


@_writes
def get_or_create_channel(*, course: Course) -> Conversation:
    """Return the course's channel, creating it the first time anyone needs it."""
    existing = Conversation.objects.filter(kind=Kind.CHANNEL, course=course).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            channel = Conversation.objects.create(kind=Kind.CHANNEL, course=course)
    except IntegrityError:  # created at the same moment by someone else
        return Conversation.objects.get(kind=Kind.CHANNEL, course=course)
    _renew_badges_in_courses([course.pk])
    return channel


@_writes
def ensure_channels(*, user: Any) -> int:
    """Create the missing channels of every course `user` teaches or takes; return how many."""
    channel = Conversation.objects.filter(kind=Kind.CHANNEL, course=OuterRef("pk"))
    missing = list(access.courses_of(user).filter(~Exists(channel)).values_list("pk", flat=True))
    if missing:
        Conversation.objects.bulk_create(
            [Conversation(kind=Kind.CHANNEL, course_id=pk) for pk in missing],
            ignore_conflicts=True,
        )
        _renew_badges_in_courses(missing)
    return len(missing)


@_writes
def get_or_create_direct(*, user: Any, other: Any) -> Conversation:
    """Return the one conversation between two people who share a course.

    Raise PermissionDenied when they share none (or it is the same person).
    """
    if other.pk == user.pk or not other.is_active:
        raise PermissionDenied(NO_SHARED_COURSE)
    if not access.shared_courses(user, other).exists():
        raise PermissionDenied(NO_SHARED_COURSE)
    key = f"{min(user.pk, other.pk)}:{max(user.pk, other.pk)}"
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Kind.DIRECT, direct_key=key, created_by=user
            )
            Participant.objects.bulk_create(
                [
                    Participant(conversation=conversation, user=user),
                    Participant(conversation=conversation, user=other),
                ]
            )
    except IntegrityError:  # the other person started it at the same moment
        return Conversation.objects.get(direct_key=key)
    live.renew_badges([user.pk, other.pk])
    return conversation


@_writes
def create_group(
    *, teacher: Any, course: Course, students: Iterable[Any], title: str = ""
) -> Conversation:
    """Start a group conversation between a teacher and some of their course's students."""
    if course.teacher_id != teacher.pk:
        raise PermissionDenied("Only the course's teacher can start a group in it.")
    ids = {s.pk for s in students} - {teacher.pk}
    enrolled = set(
        Enrollment.objects.filter(
            course=course, student_id__in=ids, status=Enrollment.Status.ACTIVE
        ).values_list("student_id", flat=True)
    )
    if not ids:
        raise ValidationError("Choose at least one student.", code="empty")
    if ids - enrolled:
        raise ValidationError("Choose students enrolled in this course.", code="not_enrolled")
    conversation = Conversation.objects.create(
        kind=Kind.GROUP, course=course, title=title.strip(), created_by=teacher
    )
    Participant.objects.bulk_create(
        [Participant(conversation=conversation, user_id=pk) for pk in [teacher.pk, *sorted(ids)]]
    )
    live.renew_badges([teacher.pk, *sorted(ids)])
    return conversation


# --- Messages --------------------------------------------------------------------------------


def _store_attachments(
    uploads: Sequence[UploadedFile], *, author: Any, course: Course | None
) -> list[StoredFile]:
    """Store every upload or none: a refused file removes the ones stored before it."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            f"Attach at most {MAX_ATTACHMENTS} files to one message.", code="too_many_files"
        )
    stored: list[StoredFile] = []
    try:
        for upload in uploads:
            stored.append(
                files.store_upload(
                    uploaded_by=concrete_user(author),
                    course=course,
                    upload=upload,
                    purpose="attachment",
                )
            )
    except Exception:
        # The rows go with the rolled-back transaction; their blobs must go by hand.
        _remove_blobs(stored)
        raise
    return stored


def _insert_message(
    conversation: Conversation, author: Any, body: str, stored: list[StoredFile]
) -> Message:
    """Write the message, its attachments, the conversation's new state and the author's read."""
    version = _bump(conversation.pk)
    message = Message.objects.create(
        conversation=conversation,
        author=author,
        body=body,
        body_html=render_body(body),
        html_version=markdown.RENDERER_VERSION,
        version=version,
    )
    Attachment.objects.bulk_create([Attachment(message=message, file=f) for f in stored])
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message=message, last_message_at=message.created_at
    )
    conversation.version = version
    conversation.last_message = message
    conversation.last_message_at = message.created_at
    moved = Participant.objects.filter(conversation=conversation, user_id=author.pk).update(
        last_read_message_id=message.pk, last_read_at=message.created_at
    )
    if not moved:
        Participant.objects.get_or_create(
            conversation=conversation,
            user_id=author.pk,
            defaults={"last_read_message_id": message.pk, "last_read_at": message.created_at},
        )
    return message


def _remove_blobs(stored: list[StoredFile]) -> None:
    """Remove the blobs of files whose rows go with a rolled-back transaction."""
    for done in stored:
        if done.blob.name:
            done.blob.storage.delete(done.blob.name)


@_writes
def post_message(
    *,
    conversation: Conversation,
    author: Any,
    body: str,
    uploads: Sequence[UploadedFile] = (),
    notify: bool = True,
) -> Message:
    """Post a message (Markdown, rendered and sanitised once) with optional attachments.

    Raise PermissionDenied when the author may not post here (muted, or no
    longer sharing a course in a direct conversation) and ValidationError for
    an empty or too long message or a refused file. The author has read what
    they wrote; everyone else is notified later if they still haven't
    (`notify=False` skips that, for seeding history).
    """
    refusal = access.posting_refusal(author, conversation)
    if refusal:
        raise PermissionDenied(refusal)
    body = clean_body(body, has_files=bool(uploads))
    stored = _store_attachments(uploads, author=author, course=conversation.course)
    try:
        message = _insert_message(conversation, author, body, stored)
    except Exception:
        _remove_blobs(stored)
        raise
    if notify:
        transaction.on_commit(lambda: _schedule_notification(message.pk))
    return message


def _schedule_notification(message_id: int) -> None:
    # Even when tasks run inline (no broker), the countdown is passed: a worker waits,
    # eager mode runs the task at once, so development shows notifications straight away.
    delay = int(getattr(settings, "MESSAGE_NOTIFY_DELAY_MINUTES", 10)) * 60
    try:
        jobs.task(NOTIFY_TASK).apply_async(args=(message_id,), countdown=delay)
    except BrokerUnreachable:
        # The message is saved; only its unread reminder is lost while the broker is away.
        logger.exception("could not schedule an unread reminder", extra={"message_id": message_id})


@_writes
def edit_message(*, message: Message, editor: Any, body: str) -> Message:
    """Replace the text of one's own message; it is then shown as edited."""
    if message.author_id != editor.pk:
        raise PermissionDenied("Only the person who wrote a message can edit it.")
    if message.is_deleted:
        raise ValidationError("This message was deleted; it can't be edited.", code="deleted")
    refusal = access.posting_refusal(editor, message.conversation)
    if refusal:
        raise PermissionDenied(refusal)
    body = clean_body(body, has_files=message.attachments.exists())
    if body == message.body:
        return message
    message.version = _bump(message.conversation_id)
    message.body = body
    message.body_html = render_body(body)
    message.html_version = markdown.RENDERER_VERSION
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "body_html", "html_version", "edited_at", "version"])
    return message


@_writes
def delete_message(*, message: Message, by: Any) -> Message:
    """Delete a message's text, files and reactions; a placeholder says it was deleted.

    The author may delete their own messages; a course's teacher any message
    in the course channel.
    """
    moderating = access.is_channel_teacher(by, message.conversation)
    if message.author_id != by.pk and not moderating:
        raise PermissionDenied("You can delete only your own messages.")
    if message.is_deleted:
        return message
    files.delete_files(StoredFile.objects.filter(message_attachment__message=message))
    Reaction.objects.filter(message=message).delete()
    message.version = _bump(message.conversation_id)
    message.body = ""
    message.body_html = ""
    message.deleted_at = timezone.now()
    message.deleted_by = by
    message.save(update_fields=["body", "body_html", "deleted_at", "deleted_by", "version"])
    return message


@_writes
def toggle_reaction(*, message: Message, user: Any, emoji: str) -> bool:
    """Add `user`'s reaction, or take it back if given already; return whether it is on."""
    if emoji not in EMOJI:
        raise ValidationError("Pick one of the reactions offered.", code="emoji")
    if message.is_deleted:
        raise ValidationError("You can't react to a deleted message.", code="deleted")
    refusal = access.posting_refusal(user, message.conversation)
    if refusal:
        raise PermissionDenied(refusal)
    # Lock first, so two clicks at once end in a definite state.
    version = _bump(message.conversation_id)
    removed, _ = Reaction.objects.filter(message=message, user_id=user.pk, emoji=emoji).delete()
    if not removed:
        Reaction.objects.create(message=message, user_id=user.pk, emoji=emoji)
    Message.objects.filter(pk=message.pk).update(version=version)
    message.version = version
    return not removed


def refresh_html(messages: Sequence[Message]) -> int:
    """Render again the messages whose HTML an older renderer stored; return how many.

    Called on the rows a page is about to show: stricter sanitising rules then
    reach old messages the first time anyone reads them, in one UPDATE for the
    whole page (and no query at all when every row is current). A row is only
    written if its version is still the one read, so an edit or deletion at
    the same moment is never overwritten.
    """
    stale = [m for m in messages if m.html_version < markdown.RENDERER_VERSION]
    if not stale:
        return 0
    for message in stale:
        message.body_html = render_body(message.body)
        message.html_version = markdown.RENDERER_VERSION
    _store_html(stale)
    return len(stale)


@_writes
def _store_html(rendered: list[Message]) -> None:
    unchanged = functools.reduce(operator.or_, (Q(pk=m.pk, version=m.version) for m in rendered))
    Message.objects.filter(unchanged).update(
        body_html=Case(*(When(pk=m.pk, then=Value(m.body_html)) for m in rendered)),
        html_version=markdown.RENDERER_VERSION,
    )


# --- Reading and moderation ------------------------------------------------------------------


def state_for(*, conversation: Conversation, user: Any) -> Participant:
    """Return `user`'s state in a conversation they belong to, made on first visit."""
    found = Participant.objects.filter(conversation=conversation, user_id=user.pk)
    state = found.first()
    if state is None:
        try:
            state = _create_state(conversation, user.pk)
        except IntegrityError:  # made at the same moment by their other tab
            state = found.get()
    return state


@_writes
def _create_state(conversation: Conversation, user_id: int, **fields: Any) -> Participant:
    return Participant.objects.create(conversation=conversation, user_id=user_id, **fields)


def mark_read(*, conversation: Conversation, user: Any, up_to: int) -> bool:
    """Move `user`'s read pointer forward to message `up_to`; return whether it moved.

    Where "seen by" is shown and the reader sends receipts, the conversation's
    version goes up so the others' pages pick the receipt up on their next poll.
    """
    now = timezone.now()
    moved = _move_pointer(conversation.pk, user.pk, up_to, now)
    if (
        not moved
        and not Participant.objects.filter(conversation=conversation, user_id=user.pk).exists()
    ):
        try:
            _create_state(conversation, user.pk, last_read_message_id=up_to, last_read_at=now)
            moved = 1
        except IntegrityError:  # made at the same moment: read again from the top
            return mark_read(conversation=conversation, user=user, up_to=up_to)
    if moved and up_to >= (conversation.last_message_id or 0):
        badge.read_to_the_end(user.pk, conversation.pk, conversation.version)
    elif moved:
        live.renew_badges([user.pk])
    if moved and user.send_read_receipts and _shows_receipts(conversation):
        conversation.version = _writes(_bump)(conversation.pk)
    return bool(moved)


# Stand-ins for the values of the read pointer's update, compiled once per process: ids no
# row will reach, positive because the ORM knows a message id below zero matches nothing.
_SOME_CONVERSATION, _SOME_USER, _SOME_MESSAGE = (9_100_000_000_000_007_901 + n for n in range(3))
_SOME_TIME = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


@functools.cache
def _pointer_sql(vendor: str) -> tuple[str, tuple[str, ...]]:
    """Compile the read pointer's one conditional UPDATE once per process and database kind.

    Every open page's next poll after a post moves its reader's pointer:
    building the statement costs the ORM more than the database needs to run it.
    Returns the SQL and its parameters, each stand-in replaced by the name of
    what `_move_pointer` puts there.
    """
    query = Participant.objects.filter(
        conversation_id=_SOME_CONVERSATION,
        user_id=_SOME_USER,
        last_read_message_id__lt=_SOME_MESSAGE,  # a pointer only ever moves forward
    ).query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values({"last_read_message_id": _SOME_MESSAGE, "last_read_at": _SOME_TIME})
    sql, params = query.get_compiler(connection.alias).as_sql()
    some_time = Participant._meta.get_field("last_read_at").get_db_prep_save(_SOME_TIME, connection)
    names = {_SOME_CONVERSATION: "conversation", _SOME_USER: "user", _SOME_MESSAGE: "up_to"}
    return sql, tuple("at" if param == some_time else names[param] for param in params)


def _move_pointer(conversation_id: int, user_id: int, up_to: int, now: datetime) -> int:
    """Move the pointer forward to `up_to`; return how many rows moved (0 or 1)."""
    sql, slots = _pointer_sql(connection.vendor)
    filled = {
        "conversation": conversation_id,
        "user": user_id,
        "up_to": up_to,
        "at": Participant._meta.get_field("last_read_at").get_db_prep_save(now, connection),
    }
    values = [filled[slot] for slot in slots]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            return cursor.rowcount
    # On its own, the move needn't wait for the disk to commit: a crash can at worst lose the
    # last second of reading, showing those messages as unread again. Each open page moves
    # its pointer after every post, and waiting for the disk each time held workers up.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(sql, values)
        return cursor.rowcount


def _shows_receipts(conversation: Conversation) -> bool:
    if conversation.kind == Kind.DIRECT:
        return True
    if conversation.kind == Kind.GROUP:
        people = Participant.objects.filter(conversation=conversation).count()
        return people <= selectors.RECEIPTS_MAX_PEOPLE
    return False


@_writes
def set_muted(*, conversation: Conversation, student: Any, muted: bool, by: Any) -> None:
    """Mute or unmute a student in a course channel: muted, they can read but not post."""
    if not access.is_channel_teacher(by, conversation):
        raise PermissionDenied("Only the course's teacher can mute people in its channel.")
    if student.pk == by.pk:
        raise ValidationError("You can't mute yourself.", code="self")
    state, _ = Participant.objects.select_for_update().get_or_create(
        conversation=conversation, user_id=student.pk
    )
    state.muted_at = timezone.now() if muted else None
    state.muted_by = by if muted else None
    state.save(update_fields=["muted_at", "muted_by"])


# --- Notifications ---------------------------------------------------------------------------


def _unread_recipients(message: Message) -> list[tuple[User, int]]:
    """Return the members who haven't read `message`, with their read pointer."""
    conversation = message.conversation
    pointer = Coalesce(
        Subquery(
            Participant.objects.filter(conversation=conversation, user=OuterRef("pk")).values(
                "last_read_message_id"
            )[:1]
        ),
        Value(0),
    )
    if conversation.kind == Kind.CHANNEL:
        course = conversation.course
        assert course is not None
        active = Enrollment.objects.filter(
            course=course, student=OuterRef("pk"), status=Enrollment.Status.ACTIVE
        )
        people = User.objects.filter(Q(pk=course.teacher_id) | Q(Exists(active)))
    else:
        people = User.objects.filter(conversation_states__conversation=conversation)
    people = people.exclude(pk=message.author_id).annotate(pointer=pointer)
    return [(p, p.pointer) for p in people.filter(pointer__lt=message.pk, is_active=True)]


def notify_unread_message(*, message_id: int) -> int:
    """Notify each member who still hasn't read a message; return how many were notified.

    One notification per person and conversation until they read it: the key
    names their read pointer, so later messages before they catch up add nothing.
    """
    message = (
        Message.objects.select_related("conversation__course", "author")
        .filter(pk=message_id, deleted_at__isnull=True)
        .first()
    )
    if message is None:
        return 0
    conversation = message.conversation
    author_name = message.author.get_full_name() or "Someone"
    if conversation.kind == Kind.CHANNEL and conversation.course is not None:
        title = f"New messages in {conversation.course.title}"
    elif conversation.kind == Kind.GROUP:
        title = f"{author_name} wrote in {conversation.title or 'your group'}"
    else:
        title = f"{author_name} sent you a message"
    preview = message.preview or "Sent a file."
    body = f"{author_name}: {preview}"
    if len(body) > 200:
        body = body[:199] + "…"
    url = reverse("messaging:conversation", args=[conversation.pk]) + f"#message-{message.pk}"
    sent = 0
    for recipient, pointer in _unread_recipients(message):
        created = notifications.notify(
            recipient=recipient,
            kind="message",
            title=title,
            body=body,
            url=url,
            course=conversation.course,
            actor=message.author,
            dedupe_key=f"message:{conversation.pk}:{recipient.pk}:{pointer}",
        )
        sent += created is not None
    return sent
