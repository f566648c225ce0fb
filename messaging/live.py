"""What open pages ask every few seconds, answered from the shared cache when it can.

A class of 200 with its channel open asks "anything new?" 70 times a second,
and the header's unread badge asks too. With Redis, the answers that change
nothing cost no SQL at all:

- Each conversation's **version** is copied into the cache after every change
  commits (`published`), and only ever raised (`core.cache.raise_to`), so
  hooks finishing out of order can't move it back. A copy lives a minute;
  whoever misses it reads the database and puts it back.
- That someone **belongs** to a conversation is remembered for a while
  (`remember`). It only ever vouches for a 304, which tells the person nothing
  they haven't already seen: anything with content checks membership in the
  database again, so a student who leaves a course loses nothing but an
  empty answer.
- Each person's **unread total** (`messaging.badge`) is kept with the
  versions of their conversations it was counted at and a generation that
  their own reading (or joining a course) renews (`renew_badges`).

Without a shared cache (the embedded default, where each process has its own
memory) every answer comes from the database, one query each.
"""

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from core import cache as shared_cache

VERSION_SECONDS = 60
MEMBER_SECONDS = 10 * 60
BADGE_SECONDS = 5 * 60
# Longer than a badge entry lives: an entry can't outlive the generation it was counted at.
GENERATION_SECONDS = 2 * BADGE_SECONDS


def version_key(conversation_id: int) -> str:
    return f"msg:v:{conversation_id}"


def member_key(conversation_id: int, user_id: object) -> str:
    return f"msg:m:{conversation_id}:{user_id}"


def badge_key(user_id: object) -> str:
    return f"msg:badge:{user_id}"


def generation_key(user_id: object) -> str:
    return f"msg:gen:{user_id}"


# --- Versions and membership ---------------------------------------------------------------


def published(conversation_id: int, version: int) -> None:
    """Copy a conversation's new version into the cache once the change commits."""
    if shared_cache.is_shared():
        transaction.on_commit(
            lambda: shared_cache.raise_to(
                version_key(conversation_id), version, timeout=VERSION_SECONDS
            )
        )


@dataclass(frozen=True)
class Cached:
    """What the cache holds for a poll: the conversation's version and the person's membership."""

    version: int | None
    member: bool

    @property
    def vouched_version(self) -> int | None:
        """The version, if the membership is there to vouch for an unchanged answer."""
        return self.version if self.member else None


NOTHING_CACHED = Cached(version=None, member=False)


def poll_keys(conversation_id: int, user_id: object) -> list[str]:
    """The keys a poll reads: the conversation's version and the person's membership."""
    return [version_key(conversation_id), member_key(conversation_id, user_id)]


def cached(conversation_id: int, user_id: object, found: dict[str, Any] | None = None) -> Cached:
    """Return what the cache holds for this person's poll (`found`: `poll_keys` already read)."""
    if not shared_cache.is_shared():
        return NOTHING_CACHED
    if found is None:
        found = shared_cache.get_many(poll_keys(conversation_id, user_id))
    version, member = poll_keys(conversation_id, user_id)
    return Cached(version=found.get(version), member=member in found)


def remember(conversation_id: int, user_id: int, version: int, cached: Cached) -> None:
    """Record what the database just said (the person belongs, at `version`) where missing."""
    if not shared_cache.is_shared():
        return
    if not cached.member:
        shared_cache.set_quietly(member_key(conversation_id, user_id), 1, timeout=MEMBER_SECONDS)
    if cached.version is None or cached.version < version:
        shared_cache.raise_to(version_key(conversation_id), version, timeout=VERSION_SECONDS)


# --- The unread badge ----------------------------------------------------------------------


def renew_badges(user_ids: list[int]) -> None:
    """Make these people's kept unread totals count again, once the change commits.

    For what moves a total without raising any version they are counted at:
    reading (a read pointer moving), joining a course or a conversation.
    """
    if not shared_cache.is_shared() or not user_ids:
        return

    def renew() -> None:
        generations = {generation_key(pk): secrets.token_hex(4) for pk in user_ids}
        shared_cache.set_quietly_many(generations, timeout=GENERATION_SECONDS)

    transaction.on_commit(renew)
