"""Reading conversations: lists, history pages, changes since a poll, unread counts, receipts.

Every reader here runs a fixed number of queries whatever the size of the
conversation: a history page is one query for its messages, one for their
reactions and one for their attachments.

Unread counts are counted, not kept as counters: a person's unread messages in
a conversation are the others' messages, not deleted, after their last-read
pointer. That is exact by construction (no counter can drift under concurrent
posts), and the index on (conversation, id) makes it a range scan over the
unread messages only.

What was said in a course before someone joined it is history, not news: in
a course's channel and groups only messages after the member's enrolment can
be unread, so a student who joins late (or comes back) isn't handed the whole
backlog. The conversation page marks "new" by the same rule.
"""

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import User
from core import parsing
from courses.models import Enrollment
from messaging import access, services
from messaging.models import (
    EMOJI,
    EMOJI_NAMES,
    Attachment,
    Conversation,
    Message,
    Participant,
    Reaction,
)

PAGE_SIZE = 50
# A poll that finds more new messages than this asks the page to reload instead.
POLL_MAX_NEW = 100
# "Seen by" is shown where a handful of people read each other: direct messages and small groups.
RECEIPTS_MAX_PEOPLE = 10

Kind = Conversation.Kind


@dataclass(frozen=True)
class ReactionCount:
    message_id: int
    emoji: str
    count: int
    mine: bool  # the viewer's own; always False in a rendering shared by everyone

    @property
    def name(self) -> str:
        return EMOJI_NAMES.get(self.emoji, self.emoji)


@dataclass
class MessageRow:
    """A message with what the viewer sees around it."""

    message: Message
    reactions: list[ReactionCount] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    is_new: bool = False


@dataclass
class HistoryPage:
    rows: list[MessageRow]
    has_older: bool
    # The newest message's id when the rows were rendered elsewhere (`fragments.latest_page`).
    newest: int = 0

    @property
    def oldest_id(self) -> int | None:
        return self.rows[-1].message.pk if self.rows else None

    @property
    def newest_id(self) -> int:
        return self.rows[0].message.pk if self.rows else self.newest


@dataclass(frozen=True)
class PollState:
    version: int
    last_message_id: int


# --- Pointers and unread counts ----------------------------------------------------------


def _my_pointer(user: Any) -> Coalesce:
    mine = Participant.objects.filter(conversation=OuterRef("pk"), user_id=user.pk)
    return Coalesce(
        Subquery(mine.values("last_read_message_id")[:1]), Value(0), output_field=IntegerField()
    )


def _unread_after_pointer(user: Any) -> Coalesce:
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            id__gt=OuterRef("my_read"),
            created_at__gte=OuterRef("my_since"),
            deleted_at__isnull=True,
        )
        .exclude(author_id=user.pk)
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(unread), Value(0), output_field=IntegerField())


def with_unread(queryset: QuerySet[Conversation], user: Any) -> QuerySet[Conversation]:
    """Annotate each conversation with `my_read` (the pointer), `my_since` and `unread` (the count).

    `my_since` is when the viewer joined the conversation's course (the
    beginning of time for its teacher and in direct conversations).
    """
    annotated = queryset.annotate(my_read=_my_pointer(user), my_since=access.member_since(user))
    return annotated.annotate(unread=_unread_after_pointer(user))


def unread_total(user: Any) -> int:
    """Return how many messages `user` has not read, across all their conversations: one query."""
    totals = with_unread(access.conversations_for(user), user).aggregate(total=Sum("unread"))
    return int(totals["total"] or 0)


def unread_by_conversation(user: Any) -> dict[int, tuple[int, int]]:
    """Return each of `user`'s conversations' version and unread count, by id: one query.

    The unread badge asks this every time a post moves one of the versions, so
    the query is compiled once per process (`_compiled_sql`).
    """
    rows = _run_compiled("unread", user.pk)
    return {pk: (version, unread) for pk, version, unread in rows}


def unread_in(conversation: Conversation, user: Any) -> int:
    found = with_unread(Conversation.objects.filter(pk=conversation.pk), user).first()
    return int(getattr(found, "unread", 0))


def inbox_stamp(user: Any) -> str:
    """Return a stamp that changes whenever anything in `user`'s conversation list changes.

    Versions only grow and pointers only move forward, so their sums change
    with any post, edit, reaction or read; the count catches a conversation
    joined or left. One query.
    """
    agg = (
        access.conversations_for(user)
        .annotate(my_read=_my_pointer(user))
        .aggregate(n=Count("pk"), v=Sum("version"), r=Sum("my_read"), m=Max("last_message_id"))
    )
    return f"{agg['n']}.{agg['v'] or 0}.{agg['r'] or 0}.{agg['m'] or 0}"


# Stand-ins for the person and the conversation in queries compiled once per process.
_SOME_USER = -7919
_SOME_CONVERSATION = -7907


def _poll_query(someone: Any) -> QuerySet[Any]:
    return (
        access.conversations_for(someone)
        .filter(pk=_SOME_CONVERSATION)
        .values_list("version", "last_message_id")
    )


def _unread_query(someone: Any) -> QuerySet[Any]:
    return with_unread(access.conversations_for(someone), someone).values_list(
        "pk",
        "version",
        "unread",  # type: ignore[misc]  # an annotation the type checker can't see
    )


_COMPILED = {"poll": _poll_query, "unread": _unread_query}


@functools.cache
def _compiled_sql(name: str, vendor: str) -> tuple[str, tuple[Any, ...]]:
    """Compile one of the `_COMPILED` queries once per process and database kind.

    Building the membership and unread conditions costs the ORM several times
    more than the database needs to run them, and an open page asks for them
    every few seconds. The SQL comes from the same `member_filter` and
    `with_unread` as every other page; only the ids are put in per request.
    """
    someone = SimpleNamespace(pk=_SOME_USER, is_authenticated=True)
    sql, params = _COMPILED[name](someone).query.sql_with_params()
    assert _SOME_CONVERSATION not in params or params.count(_SOME_CONVERSATION) == 1, (
        "the stand-in ids must not collide"
    )
    return sql, tuple(params)


def _run_compiled(name: str, user_id: int, conversation_id: int = 0) -> list[tuple[Any, ...]]:
    sql, params = _compiled_sql(name, connection.vendor)
    stand_ins = {_SOME_USER: user_id, _SOME_CONVERSATION: conversation_id}
    values = [stand_ins.get(p, p) if isinstance(p, int) else p for p in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchall()


def poll_state(user: Any, pk: int) -> PollState | None:
    """Return the conversation's version and newest message if `user` belongs to it: one query.

    An id no column can hold belongs to no conversation; the raw query would not say so itself.
    """
    if not 0 < pk <= parsing.MAX_ID:
        return None
    rows = _run_compiled("poll", user.pk, pk)
    if not rows:
        return None
    version, last_message_id = rows[0]
    return PollState(version=version, last_message_id=last_message_id or 0)


def conversation_for_poll(pk: int, version: int) -> Conversation:
    """Return conversation `pk` with its course, for a poll that has just read its version.

    Membership was read by `poll_state`'s compiled query: building the membership
    condition again would cost the ORM more than the database needs to run it.
    After a post, every open page's poll needs the conversation at the new
    version; what a poll uses of it (its kind, last message and course's
    teacher) is the same at the same version, so a copy loaded at that version
    is kept in this worker's memory for a few seconds (`CACHES["local"]`) and
    the others use it.
    """
    local = caches["local"]
    found = local.get(f"msg:poll-conversation:{pk}:{version}")
    if found is None:
        found = Conversation.objects.select_related("course").get(pk=pk)
        local.set(f"msg:poll-conversation:{pk}:{found.version}", found)
    return found


# --- The conversation list -----------------------------------------------------------------


def inbox(user: Any) -> QuerySet[Conversation]:
    """Return `user`'s conversations, latest activity first, with what the list shows.

    Direct conversations nobody has written in yet stay out of the list.
    """
    direct_and_group = Participant.objects.filter(
        conversation__kind__in=[Kind.DIRECT, Kind.GROUP]
    ).select_related("user")
    return (
        with_unread(access.conversations_for(user), user)
        .exclude(kind=Kind.DIRECT, last_message__isnull=True)
        .select_related("course", "last_message__author")
        .prefetch_related(Prefetch("participants", queryset=direct_and_group))
        .annotate(activity=Coalesce("last_message_at", "created_at"))
        .order_by("-activity", "-pk")
    )


def other_people(conversation: Conversation, user: Any) -> list[User]:
    """Return the people of a direct or group conversation besides `user` (prefetched)."""
    return [p.user for p in conversation.participants.all() if p.user_id != user.pk]


def title_for(conversation: Conversation, user: Any) -> str:
    """Return the conversation's name as `user` sees it (participants must be prefetched)."""
    if conversation.kind == Kind.CHANNEL:
        return conversation.course.title if conversation.course else "Course channel"
    if conversation.title:
        return conversation.title
    others = other_people(conversation, user)
    if not others:
        return "Only you"
    names = [p.get_full_name() or p.email for p in others]
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:2])} and {len(names) - 2} others"


# --- History, changes and search -------------------------------------------------------------


def _decorate(
    messages: list[Message],
    user: Any | None,
    read_up_to: int | None = None,
    member_since: datetime | None = None,
) -> list[MessageRow]:
    """Attach reactions and attachments to `messages` with one query each.

    HTML from an older renderer is rendered again first (one more query, only
    when there is some). With `read_up_to`, mark as new what `with_unread`
    counts as unread. Without `user` (a rendering shared by every viewer) no
    reaction is marked as the viewer's own.
    """
    services.refresh_html(messages)
    ids = [m.pk for m in messages if not m.is_deleted]
    counts: dict[int, dict[str, ReactionCount]] = defaultdict(dict)
    files: dict[int, list[Attachment]] = defaultdict(list)
    if ids:
        mine = Count("pk", filter=Q(user_id=user.pk)) if user is not None else Value(0)
        grouped = (
            Reaction.objects.filter(message_id__in=ids)
            .order_by()
            .values("message_id", "emoji")
            .annotate(n=Count("pk"), mine=mine)
        )
        for row in grouped:
            counts[row["message_id"]][row["emoji"]] = ReactionCount(
                message_id=row["message_id"],
                emoji=row["emoji"],
                count=row["n"],
                mine=row["mine"] > 0,
            )
        for attachment in Attachment.objects.filter(message_id__in=ids).select_related("file"):
            files[attachment.message_id].append(attachment)
    return [
        MessageRow(
            message=m,
            reactions=[counts[m.pk][e] for e in EMOJI if e in counts[m.pk]],
            attachments=sorted(files[m.pk], key=lambda a: a.pk),
            is_new=read_up_to is not None
            and user is not None
            and m.pk > read_up_to
            and m.author_id != user.pk
            and (member_since is None or m.created_at >= member_since),
        )
        for m in messages
    ]


def _messages(conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).select_related("author")


def history(
    conversation: Conversation,
    user: Any,
    *,
    before: int | None = None,
    read_up_to: int | None = None,
    member_since: datetime | None = None,
) -> HistoryPage:
    """Return a page of messages, newest first, older than `before` when given.

    Messages after `read_up_to` (and not before `member_since`) are marked new.
    """
    messages = _messages(conversation).order_by("-id")
    if before is not None:
        messages = messages.filter(id__lt=before)
    found = list(messages[: PAGE_SIZE + 1])
    return HistoryPage(
        rows=_decorate(found[:PAGE_SIZE], user, read_up_to, member_since),
        has_older=len(found) > PAGE_SIZE,
    )


def search(
    conversation: Conversation, user: Any, query: str, *, before: int | None = None
) -> HistoryPage:
    """Return messages containing `query`, newest first.

    A case-insensitive substring match (icontains): enough for one
    conversation's history, with no search index to keep.
    """
    messages = (
        _messages(conversation)
        .filter(deleted_at__isnull=True, body__icontains=query)
        .order_by("-id")
    )
    if before is not None:
        messages = messages.filter(id__lt=before)
    found = list(messages[: PAGE_SIZE + 1])
    return HistoryPage(rows=_decorate(found[:PAGE_SIZE], user), has_older=len(found) > PAGE_SIZE)


@dataclass
class Changes:
    new: list[MessageRow]
    changed: list[MessageRow]
    too_many: bool


def changes_since(
    conversation: Conversation, user: Any | None, *, after: int, version: int
) -> Changes:
    """Return messages posted after `after` and older ones changed after `version`.

    Without `user`, as everyone sees them (see `_decorate`).
    """
    found = list(
        _messages(conversation).filter(version__gt=version).order_by("-id")[: POLL_MAX_NEW + 1]
    )
    if len(found) > POLL_MAX_NEW:
        return Changes(new=[], changed=[], too_many=True)
    rows = _decorate(found, user)
    return Changes(
        new=[r for r in rows if r.message.pk > after],
        changed=[r for r in rows if r.message.pk <= after],
        too_many=False,
    )


# --- People and read receipts ----------------------------------------------------------------


def participants(conversation: Conversation) -> list[Participant]:
    """Return a direct or group conversation's participants with their accounts."""
    if conversation.kind == Kind.CHANNEL:
        return []
    return list(
        Participant.objects.filter(conversation=conversation)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "pk")
    )


def shows_receipts(conversation: Conversation, people: int) -> bool:
    return conversation.kind != Kind.CHANNEL and people <= RECEIPTS_MAX_PEOPLE


def seen_by(
    conversation: Conversation, viewer: Any, people: list[Participant], newest: Message
) -> list[Participant]:
    """Return who has read `newest`, when read receipts apply to the viewer.

    Receipts go both ways or not at all: someone who turned them off neither
    sends nor sees them. The newest message's author is left out.
    """
    if not viewer.send_read_receipts or not shows_receipts(conversation, len(people)):
        return []
    return [
        p
        for p in people
        if p.user_id not in (viewer.pk, newest.author_id)
        and p.user.send_read_receipts
        and p.last_read_message_id >= newest.pk
    ]


def channel_members(conversation: Conversation) -> QuerySet[User]:
    """Return a channel's people: the teacher first, then active students by name."""
    course = conversation.course
    assert course is not None
    active = Enrollment.objects.filter(
        course=course, student=OuterRef("pk"), status=Enrollment.Status.ACTIVE
    )
    muted = Participant.objects.filter(
        conversation=conversation, user=OuterRef("pk"), muted_at__isnull=False
    )
    return (
        User.objects.filter(Q(pk=course.teacher_id) | Q(Exists(active)), is_active=True)
        .annotate(
            is_muted=Exists(muted),
            teaches_course=Case(When(pk=course.teacher_id, then=Value(True)), default=Value(False)),
        )
        .order_by("-teaches_course", "first_name", "last_name", "pk")
    )


def member_count(conversation: Conversation) -> int:
    if conversation.kind != Kind.CHANNEL or conversation.course_id is None:
        return Participant.objects.filter(conversation=conversation).count()
    return (
        1
        + Enrollment.objects.filter(
            course_id=conversation.course_id, status=Enrollment.Status.ACTIVE
        ).count()
    )


def people_to_message(user: Any, query: str = "") -> QuerySet[User]:
    """Return everyone `user` shares a course with, by name, optionally matching `query`."""
    courses = access.courses_of(user).values("pk")
    people = (
        User.objects.filter(
            Q(courses_taught__in=courses)
            | Q(
                enrollments__course__in=courses,
                enrollments__status=Enrollment.Status.ACTIVE,
            )
        )
        .exclude(pk=user.pk)
        .filter(is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )
    if query:
        people = people.filter(
            Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(email__iexact=query)
        )
    return people


def poll_seconds() -> int:
    return int(getattr(settings, "MESSAGE_POLL_SECONDS", 3))
