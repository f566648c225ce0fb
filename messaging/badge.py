"""The header's unread-message count, from the cache while nothing it was counted from changed.

The count is kept per person with the version of each of their conversations
it was counted at, what each of them had unread, and their badge generation
(`messaging.live`). A post anywhere they belong raises a version; their own
reading, or joining a course or a conversation, renews the generation; reading
a conversation to its end also records it in the kept entry
(`read_to_the_end`). While versions and generation still match, the badge
costs two round trips to Redis and no SQL.
"""

import secrets
from typing import Any

from django.db import transaction

from core import cache as shared_cache
from messaging import live, selectors


def unread_total(user: Any) -> int:
    """Return how many messages `user` has not read, across their conversations.

    From the cache while nothing it was counted from has changed (two round
    trips to Redis, no SQL); otherwise one query, which also refreshes the
    versions of all of the person's conversations in the cache.
    """
    if not shared_cache.is_shared():
        return selectors.unread_total(user)
    found = shared_cache.get_many(keys(user.pk))
    kept = kept_total(user.pk, found)
    if kept is not None:
        return kept
    badge, generation = keys(user.pk)
    counts = selectors.unread_by_conversation(user)
    shared_cache.raise_all_to(
        {live.version_key(pk): version for pk, (version, _) in counts.items()},
        timeout=live.VERSION_SECONDS,
    )
    unread = {pk: n for pk, (_, n) in counts.items()}
    total = sum(unread.values())
    entry = {
        "generation": found.get(generation),
        "versions": {pk: version for pk, (version, _) in counts.items()},
        "unread": unread,
        "count": total,
    }
    # Counted from the database this time; if the cache is down, the next request asks again.
    shared_cache.set_quietly(badge, entry, timeout=live.BADGE_SECONDS)
    return total


def keys(user_id: object) -> list[str]:
    """The keys a kept total is read from: the entry and the person's badge generation."""
    return [live.badge_key(user_id), live.generation_key(user_id)]


def kept_total(user_id: object, found: dict[str, Any]) -> int | None:
    """Return the kept total if nothing it was counted from changed, else None.

    `found` holds what the cache answered for `keys`; the versions the entry
    was counted at take one more round trip.
    """
    badge, generation = keys(user_id)
    entry: Any = found.get(badge)
    if entry is None or entry["generation"] != found.get(generation):
        return None
    wanted = {live.version_key(pk): version for pk, version in entry["versions"].items()}
    versions = shared_cache.get_many(list(wanted)) if wanted else {}
    if any(versions.get(key) != version for key, version in wanted.items()):
        return None
    return int(entry["count"])


def read_to_the_end(user_id: int, conversation_id: int, version: int) -> None:
    """Keep the person's total right once they have read a conversation to its end, on commit.

    After a post, every open page of the conversation reads it at once. Making
    each of their totals count again (a new generation) would turn their next
    badge into a query; instead the kept entry learns that this conversation
    has nothing unread at `version`, under a new generation, so an entry
    another request counted before this reading can't be kept afterwards. An
    entry that isn't current, or already counted the conversation at a later
    version, is left to count again.
    """
    if not shared_cache.is_shared():
        return

    def record() -> None:
        badge, generation = keys(user_id)
        found = shared_cache.get_many([badge, generation])
        entry: Any = found.get(badge)
        renewed = secrets.token_hex(4)
        values: dict[str, Any] = {generation: renewed}
        if (
            entry is not None
            and "unread" in entry
            and entry["generation"] == found.get(generation)
            and entry["versions"].get(conversation_id, 0) <= version
        ):
            unread = {**entry["unread"], conversation_id: 0}
            values[badge] = {
                "generation": renewed,
                "versions": {**entry["versions"], conversation_id: version},
                "unread": unread,
                "count": sum(unread.values()),
            }
        shared_cache.set_quietly_many(values, timeout=live.BADGE_SECONDS)

    transaction.on_commit(record)
