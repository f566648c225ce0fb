"""Who may read and write where: membership is computed from courses, never copied.

Every loader raises Http404 for a conversation the person is not in, whether
it exists or not, so someone else's conversation looks like a missing one.
"""

from datetime import UTC, datetime
from typing import Any

from django.db.models import DateTimeField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from courses.models import Course, Enrollment
from files.models import StoredFile
from messaging.models import Conversation, Message, Participant

Kind = Conversation.Kind
# Earlier than any message.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)


def _active_in_course(user: Any, course_ref: str = "course") -> Exists:
    return Exists(
        Enrollment.objects.filter(
            course=OuterRef(course_ref), student_id=user.pk, status=Enrollment.Status.ACTIVE
        )
    )


def _listed_participant(user: Any) -> Exists:
    return Exists(Participant.objects.filter(conversation=OuterRef("pk"), user_id=user.pk))


def member_filter(user: Any) -> Q:
    """Return the condition a conversation meets when `user` belongs to it.

    Channel: the course's teacher or an active student. Direct: a participant.
    Group: a participant who still teaches or takes the course.
    """
    in_course = Q(course__teacher_id=user.pk) | Q(_active_in_course(user))
    return (
        (Q(kind=Kind.CHANNEL) & in_course)
        | (Q(kind=Kind.DIRECT) & Q(_listed_participant(user)))
        | (Q(kind=Kind.GROUP) & Q(_listed_participant(user)) & in_course)
    )


def conversations_for(user: Any) -> QuerySet[Conversation]:
    """Return every conversation `user` belongs to."""
    if not user.is_authenticated:
        return Conversation.objects.none()
    return Conversation.objects.filter(member_filter(user))


def member_since(user: Any) -> Coalesce:
    """Return, for each conversation, when `user` joined its course.

    What was said before is history to them, never unread. For a course's
    teacher and in direct conversations there is no such moment: `BEGINNING`.
    """
    joined = Enrollment.objects.filter(
        course=OuterRef("course"), student_id=user.pk, status=Enrollment.Status.ACTIVE
    ).values("enrolled_at")[:1]
    return Coalesce(Subquery(joined), Value(BEGINNING), output_field=DateTimeField())


def get_conversation_for_member(user: Any, pk: int) -> Conversation:
    """Return conversation `pk` with its course and teacher if `user` belongs to it.

    It comes with `member_since`, when `user` joined its course.
    """
    return get_object_or_404(
        conversations_for(user)
        .select_related("course__teacher")
        .annotate(member_since=member_since(user)),
        pk=pk,
    )


def get_message_for_member(user: Any, message_id: int) -> Message:
    """Return a message of a conversation `user` belongs to, with the conversation loaded."""
    message = get_object_or_404(
        Message.objects.select_related("conversation__course", "author"), pk=message_id
    )
    if not conversations_for(user).filter(pk=message.conversation_id).exists():
        raise Http404
    return message


def courses_of(user: Any) -> QuerySet[Course]:
    """Return the courses `user` teaches or actively takes."""
    return Course.objects.filter(
        Q(teacher_id=user.pk) | Q(_active_in_course(user, course_ref="pk"))
    )


def shared_courses(user: Any, other: Any) -> QuerySet[Course]:
    """Return the courses both people teach or actively take."""
    return courses_of(user).filter(
        Q(teacher_id=other.pk) | Q(_active_in_course(other, course_ref="pk"))
    )


def is_channel_teacher(user: Any, conversation: Conversation) -> bool:
    """Say whether `user` moderates `conversation`: the teacher of a course channel."""
    return (
        conversation.kind == Kind.CHANNEL
        and conversation.course is not None
        and conversation.course.teacher_id == user.pk
    )


def may_download_attachment(user: Any, stored: StoredFile) -> bool | None:
    """Say whether `user` may download a file sent with a message: its conversation's people.

    None for a file that is not an attachment: other apps speak for those.
    """
    attachment = getattr(stored, "message_attachment", None)
    if attachment is None:
        return None
    if not user.is_authenticated:
        return False
    conversation_id = attachment.message.conversation_id
    return conversations_for(user).filter(pk=conversation_id).exists()


MUTED = "The teacher has muted you in this channel: you can read it, but not post or react."


def posting_refusal(
    user: Any, conversation: Conversation, *, state: Participant | None = None
) -> str:
    """Return why `user`, a member, may not write in `conversation`, or "" when they may.

    A muted student may read their course channel but not post; in a direct
    conversation both people must still share a course.
    """
    if conversation.kind == Kind.CHANNEL:
        if state is None:
            state = Participant.objects.filter(conversation=conversation, user_id=user.pk).first()
        return MUTED if state is not None and state.muted_at is not None else ""
    if conversation.kind == Kind.DIRECT:
        other = (
            Participant.objects.filter(conversation=conversation)
            .exclude(user_id=user.pk)
            .select_related("user")
            .first()
        )
        if other is None:
            return "The other person has left Lectern, so this conversation is read-only."
        if not shared_courses(user, other.user).exists():
            name = other.user.get_full_name() or "this person"
            return f"You no longer share a course with {name}, so you can't send new messages."
    return ""
