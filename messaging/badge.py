"""The header's unread-message count, from the cache while nothing it was counted from changed.

The count is kept per person with the version of each of their conversations
it was counted at and their badge generation (`messaging.live`). A post
anywhere they belong raises a version; their own reading, or joining a
course or a conversation, renews the generation. While both still match,
the badge costs two round trips to Redis and no SQL.
"""

from typing import Any

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
    badge, generation = live.badge_key(user.pk), live.generation_key(user.pk)
    found = shared_cache.get_many([badge, generation])
    entry: Any = found.get(badge)
    if entry is not None and entry["generation"] == found.get(generation):
        versions = shared_cache.get_many([live.version_key(pk) for pk in entry["versions"]])
        if all(versions.get(live.version_key(pk)) == v for pk, v in entry["versions"].items()):
            return int(entry["count"])
    counts = selectors.unread_by_conversation(user)
    shared_cache.raise_all_to(
        {live.version_key(pk): version for pk, (version, _) in counts.items()},
        timeout=live.VERSION_SECONDS,
    )
    total = sum(unread for _, unread in counts.values())
    entry = {
        "generation": found.get(generation),
        "versions": {pk: version for pk, (version, _) in counts.items()},
        "count": total,
    }
    # Counted from the database this time; if the cache is down, the next request asks again.
    shared_cache.set_quietly(badge, entry, timeout=live.BADGE_SECONDS)
    return total
