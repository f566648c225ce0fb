"""A poll's news, rendered once and shared by everyone who asks for it.

When someone posts in a channel of 200, the next poll of each of the 200
open pages brings the same new message. Rendering it 200 times (and reading
it, its reactions and its files 200 times) is what made a busy conversation
slow; so the news between two versions is rendered once, kept in the cache,
and handed to each viewer with their own touches put in.

What differs between viewers is either part of the cache key (their time
zone and language, whether they moderate the conversation, whether they send
read receipts) or left in the shared HTML as a *mark* that `personalise`
resolves cheaply:

- a choice that depends on who is looking (`{% if_mine message %}`: their
  own messages get edit controls; `{% if_reacted reaction %}`: their own
  reactions show as pressed), kept as both branches between marks;
- the CSRF token of their session, in each form.

Marks are delimited by NUL characters and a random nonce drawn for each
rendering: no text a person can write (NUL is refused in every form) can
forge one. Templates rendered for one person (the conversation page, older
messages) resolve the same tags on the spot, so both ways give the same HTML;
`tests/test_polling.py` checks that they do.
"""

import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation

from core import cache as shared_cache
from core import markdown
from messaging import selectors
from messaging.models import EMOJI_CHOICES, Conversation, Reaction

FRAGMENT_SECONDS = 120
SHARED = "shared_marks"


@dataclass
class Marks:
    """The marks of one shared rendering: its nonce and a counter for the choices."""

    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    _counter: Any = field(default_factory=itertools.count)

    @property
    def csrf(self) -> str:
        return f"\x00{self.nonce}|csrf\x00"

    def choice(self, condition: str, yes: str, no: str) -> str:
        """Return both branches of a per-viewer choice, to be resolved by `personalise`."""
        seq = next(self._counter)
        end = f"\x00{self.nonce}|{seq}\x00"
        return f"\x00{self.nonce}|{seq}|{condition}\x00{yes}{end}{no}{end}"


@dataclass(frozen=True)
class News:
    """What changed between two versions, rendered for everyone alike."""

    html: str
    nonce: str
    newest_new_id: int  # the newest new message (0: none), to mark it read
    reacted_ids: tuple[int, ...]  # messages with reactions: whose are the viewer's?
    too_many: bool = False


def _cache_key(
    conversation: Conversation, *, since: int, after: int, moderator: bool, receipts: bool
) -> str:
    zone = timezone.get_current_timezone_name()
    language = translation.get_language() or ""
    return (
        f"msg:news:{conversation.pk}:{since}:{conversation.version}:{after}"
        f":{int(moderator)}{int(receipts)}:{zone}:{language}:{markdown.RENDERER_VERSION}"
    )


def news_since(
    conversation: Conversation,
    *,
    since: int,
    after: int,
    moderator: bool,
    receipts: bool,
    poll_context: Any,
) -> News:
    """Return the messages posted after `after` or changed after version `since`, rendered.

    `conversation.version` is the version the next poll will compare with;
    `poll_context(after)` gives the next poller's settings.
    """
    key = _cache_key(conversation, since=since, after=after, moderator=moderator, receipts=receipts)
    kept = shared_cache.get_near(key)
    if kept is not None:
        return kept
    changes = selectors.changes_since(conversation, None, after=after, version=since)
    if changes.too_many:
        news = News(html="", nonce="", newest_new_id=0, reacted_ids=(), too_many=True)
    else:
        marks = Marks()
        newest = changes.new[0].message.pk if changes.new else 0
        context = {
            SHARED: marks,
            "csrf_token": marks.csrf,
            "conversation": conversation,
            "teacher_id": conversation.course.teacher_id if conversation.course else None,
            "is_moderator": moderator,
            "emoji": EMOJI_CHOICES,
            "new_rows": changes.new,
            "changed_rows": changes.changed,
            "poll": poll_context(max(after, newest)),
        }
        rows = changes.new + changes.changed
        news = News(
            html=render_to_string("messaging/_poll.html", context),
            nonce=marks.nonce,
            newest_new_id=newest,
            reacted_ids=tuple(row.message.pk for row in rows if row.reactions),
        )
    shared_cache.keep_near(key, news, timeout=FRAGMENT_SECONDS)
    return news


@dataclass(frozen=True)
class Latest:
    """A channel's newest page of messages, rendered for everyone alike."""

    html: str
    nonce: str
    newest_id: int  # 0: no message yet
    reacted_ids: tuple[int, ...]


def latest_page(conversation: Conversation, *, moderator: bool) -> Latest:
    """Return a channel's newest messages as everyone sees them at its current version.

    A channel's page is opened by every student of the course, again and again
    in a live class: its messages are read and rendered once per version. What
    is new to each viewer is a mark (`{% if_new %}`) resolved by `personalise`.
    """
    zone = timezone.get_current_timezone_name()
    language = translation.get_language() or ""
    key = f"msg:latest:{conversation.pk}:{conversation.version}:{int(moderator)}:{zone}:{language}"
    kept = shared_cache.get_near(key)
    if kept is not None:
        return kept
    page = selectors.history(conversation, None)
    marks = Marks()
    context = {
        SHARED: marks,
        "csrf_token": marks.csrf,
        "conversation": conversation,
        "page": page,
        "q": "",
        "teacher_id": conversation.course.teacher_id if conversation.course else None,
        "is_moderator": moderator,
        "emoji": EMOJI_CHOICES,
    }
    latest = Latest(
        html=render_to_string("messaging/_older.html", context),
        nonce=marks.nonce,
        newest_id=page.newest_id,
        reacted_ids=tuple(row.message.pk for row in page.rows if row.reactions),
    )
    shared_cache.keep_near(key, latest, timeout=FRAGMENT_SECONDS)
    return latest


def _choice_pattern(nonce: str) -> re.Pattern[str]:
    mark = re.escape(nonce)
    return re.compile(
        rf"\x00{mark}\|(\d+)\|([^\x00]*)\x00(.*?)\x00{mark}\|\1\x00(.*?)\x00{mark}\|\1\x00",
        re.DOTALL,
    )


def _is_new(condition: str, viewer: Any, read_up_to: int, member_since: datetime | None) -> bool:
    """Say whether a `new:<id>:<author>:<timestamp>` mark is unread for `viewer`.

    The rule is `selectors.with_unread`'s: others' messages after the read
    pointer, and not from before the viewer joined the course.
    """
    _, pk, author_id, created = condition.split(":")
    return (
        int(pk) > read_up_to
        and int(author_id) != viewer.pk
        and (member_since is None or float(created) >= member_since.timestamp())
    )


def personalise(
    news: News | Latest,
    *,
    viewer: Any,
    csrf_token: str,
    read_up_to: int | None = None,
    member_since: datetime | None = None,
) -> str:
    """Return shared HTML as `viewer` sees it: their choices made, their token put in.

    `read_up_to` and `member_since` say which messages are new to them (on a
    channel's page); without `read_up_to` none is.
    """
    if not news.nonce:
        return news.html
    reacted: set[str] = set()
    if news.reacted_ids:
        mine = Reaction.objects.filter(user_id=viewer.pk, message_id__in=news.reacted_ids)
        reacted = {f"reacted:{m}:{e}" for m, e in mine.values_list("message_id", "emoji")}
    own = f"mine:{viewer.pk}"

    def choose(match: re.Match[str]) -> str:
        condition = match.group(2)
        holds = (
            condition == own
            or condition in reacted
            or (
                condition.startswith("new:")
                and read_up_to is not None
                and _is_new(condition, viewer, read_up_to, member_since)
            )
        )
        return match.group(3) if holds else match.group(4)

    html = news.html.replace(f"\x00{news.nonce}|csrf\x00", csrf_token)
    pattern = _choice_pattern(news.nonce)
    # Choices may hold choices (a viewer's reactions inside their own message): resolve outwards in.
    for _ in range(4):
        html, resolved = pattern.subn(choose, html)
        if not resolved:
            break
    return html
