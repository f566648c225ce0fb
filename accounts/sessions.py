"""The session engine with Redis: Django's `cached_db`, reading the user's copy alongside.

A signed-in request needs two things from Redis: its session, then the copy
of its user that `accounts.user_cache` keeps, whose key only the session
tells. Asked one after the other, that is two round trips, and on a busy
server each is a wait for another process to be scheduled. A session key
always belongs to one user (signing in or out starts a new key), so this
process remembers which user each session it served signed in, and reads the
session and that user's copy in one round trip. `user_cache` uses the copy
only if the session still names that user, and checks it as it checks any
copy. Sessions are stored exactly as `cached_db` stores them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db
from django.core.cache import DEFAULT_CACHE_ALIAS, caches

from accounts import user_cache
from core import cache as shared_cache


class SessionStore(cached_db.SessionStore):
    # (cache key, what the cache held) for the user copy read with the session, if any.
    user_copy: tuple[str, Any] | None = None

    # Set while `cycle_key` drops the key of a session nobody is signed in to.
    _dropping_anonymous = False

    def delete(self, session_key: str | None = None) -> None:
        """End a session in the cache first, and refuse to end it at all while Redis is away.

        The shared cache treats an outage as a miss and drops writes, but a signed-in
        session's copy kept from before the outage would come back with Redis and
        sign the cookie in again after "Sign out". So ending one waits for Redis: the
        person sees the "back in a moment" page and their session stays whole in both
        places. A visitor's session left behind at sign-in signs nobody in, so
        signing in goes ahead during an outage.
        """
        key = session_key or self.session_key
        strict_delete = getattr(caches[settings.SESSION_CACHE_ALIAS], "delete_many_or_raise", None)
        if key is not None and strict_delete is not None and not self._dropping_anonymous:
            strict_delete([self.cache_key_prefix + key])
        super().delete(session_key)

    def cycle_key(self) -> None:
        self._dropping_anonymous = self.get(SESSION_KEY) is None
        try:
            super().cycle_key()
        finally:
            self._dropping_anonymous = False

    def load(self) -> dict[str, Any]:
        user_key = user_cache.copy_key_for_session(self.session_key or "")
        if user_key is None or settings.SESSION_CACHE_ALIAS != DEFAULT_CACHE_ALIAS:
            return super().load()
        found = shared_cache.get_many([self.cache_key, user_key])
        self.user_copy = (user_key, found.get(user_key))
        data = found.get(self.cache_key)
        if data is None:
            return super().load()  # from the database, as cached_db does
        return data


@dataclass(frozen=True)
class Glance:
    """A signed-in session seen in one round trip, with the other keys asked for."""

    user: Any
    session: dict[str, Any]
    found: dict[str, Any]


def glance(session_key: str, extra_keys: Callable[[str], list[str]]) -> Glance | None:
    """Read a signed-in session, its user's copy and `extra_keys(user id)` in one round trip.

    Only for a session this process has served before, with the session and a
    valid copy of its user both in the cache: nothing is read from the
    database and nothing is written. None means: take the full path.
    """
    if __name__ != settings.SESSION_ENGINE or settings.SESSION_CACHE_ALIAS != DEFAULT_CACHE_ALIAS:
        return None
    user_id = user_cache.user_id_for_session(session_key)
    user_key = user_cache.copy_key_for_session(session_key)
    store = SessionStore(session_key)
    if user_id is None or user_key is None or store.session_key is None:
        return None
    extras = extra_keys(user_id)
    found = shared_cache.get_many([store.cache_key, user_key, *extras])
    session = found.get(store.cache_key)
    if not isinstance(session, dict):
        return None
    user = user_cache.user_signed_in_by(session, (user_key, found.get(user_key)))
    if user is None:
        return None
    return Glance(user, session, {key: found[key] for key in extras if key in found})
