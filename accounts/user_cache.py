"""The signed-in user, read from the shared cache instead of the database.

Every signed-in request needs its user, and Django's `AuthenticationMiddleware`
loads the row with a query each time. With a shared cache (Redis) a copy of
the row is kept there for `USER_COPY_SECONDS`, and dropped whenever the row
changes: the `post_save` and `post_delete` receivers and `UserQuerySet.update`
call `forget` (see `core.cache.Copies` for how a request racing a change is
kept from storing the old row). Without a shared cache each process would
keep copies the others can't drop (the `run_periodic` process switches
accounts off), so every request loads the row as Django does.

The copy leaves out the password hash: it holds the session auth hash derived
from it, which is enough to check a session and useless to anyone reading
Redis. Code that reads `user.password` (changing a password) loads it from
the database, as Django does for any deferred field.

Only the usual case is answered from the copy: the session names a user, its
backend loads users with a plain row lookup, and its auth hash matches the
copy's. Everything else (no copy yet, a session from before a password change,
a hash made with a fallback secret key, an account switched off) goes through
Django's own `auth.get_user`, which loads the row, checks it, and flushes or
rotates the session exactly as it always has.
"""

import copy
import functools
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

from core.cache import Copies, is_shared

# A safety net: a copy is dropped on every change, and would be gone after this anyway.
USER_COPY_SECONDS = 10 * 60

# Sign-in backends whose `get_user` is ModelBackend's: load the row by id, refuse it when
# switched off. A session from any other backend loads its user as Django does.
PLAIN_ROW_BACKENDS = frozenset(
    {
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    }
)


@functools.lru_cache(maxsize=4)
def _copies(secret_key: str) -> Copies:
    """The copies for this secret key and shape of the user row.

    A new secret key makes new session auth hashes, and a new field an old
    pickle without it: either starts afresh under another prefix.
    """
    fields = ",".join(f.attname for f in auth.get_user_model()._meta.concrete_fields)
    version = salted_hmac(
        "accounts.user_cache", fields, secret=secret_key, algorithm="sha256"
    ).hexdigest()[:12]
    return Copies(f"signed-in-user:{version}", timeout=USER_COPY_SECONDS)


def _user_copies() -> Copies:
    return _copies(settings.SECRET_KEY)


def get_user(request: HttpRequest) -> Any:
    """Return the user the session signs in, from the shared cache when a valid copy is there."""
    session = request.session
    signs_in = _plain_sign_in(session)
    if signs_in is None:
        return auth.get_user(request)
    user_id, session_hash = signs_in
    copies = _user_copies()
    kept, storable = _kept_copy(copies, session, user_id)
    user = _vouched(kept, session_hash)
    if user is not None:
        _remember_session_user(session.session_key, user_id)
        return user
    user = auth.get_user(request)
    if user.is_authenticated:
        _remember_session_user(session.session_key, user_id)
        if storable:
            copies.store(user_id, (user.get_session_auth_hash(), _without_password(user)))
    return user


def user_signed_in_by(session: Any, user_copy: tuple[str, Any]) -> Any:
    """Return the user a session's data signs in, if the copy read with it vouches for them.

    `user_copy` is (key, what the cache held) for `copy_key_for_session`'s key,
    read in the same round trip as the session. None when anything is short of
    the usual case, so the caller takes Django's full path instead.
    """
    signs_in = _plain_sign_in(session)
    if signs_in is None or user_copy[0] != _user_copies().key(signs_in[0]):
        return None
    kept, _ = _user_copies().read(user_copy[1])
    return _vouched(kept, signs_in[1])


def _plain_sign_in(session: Any) -> tuple[str, str] | None:
    """Return (user id, auth hash) if the session signs someone in with a plain-row backend."""
    user_id = session.get(SESSION_KEY)
    backend_path = session.get(BACKEND_SESSION_KEY)
    session_hash = session.get(HASH_SESSION_KEY)
    if (
        user_id is None
        or not session_hash
        or backend_path not in settings.AUTHENTICATION_BACKENDS
        or backend_path not in PLAIN_ROW_BACKENDS
    ):
        return None
    return str(user_id), session_hash


def _vouched(kept: Any, session_hash: str) -> Any:
    """Return the kept user if its auth hash is the session's, else None."""
    if kept is None:
        return None
    auth_hash, user = kept
    return user if constant_time_compare(session_hash, auth_hash) else None


def _kept_copy(copies: Copies, session: Any, user_id: str) -> tuple[Any, bool]:
    """Return the user's kept copy: the one read with the session if it is that user's."""
    read_with_session = getattr(session, "user_copy", None)
    if read_with_session is not None and read_with_session[0] == copies.key(user_id):
        return copies.read(read_with_session[1])
    return copies.lookup(user_id)


# Which user each session key signed in, as far as this process has seen: a session
# key always belongs to one user (signing in or out starts a new key), so the session
# store can read that user's copy together with the session (`accounts.sessions`).
_SESSION_USERS_MAX = 20_000
_session_users: dict[str, str] = {}


def _remember_session_user(session_key: str | None, user_id: str) -> None:
    if session_key is None or _session_users.get(session_key) == user_id:
        return
    if len(_session_users) >= _SESSION_USERS_MAX:
        _session_users.clear()
    _session_users[session_key] = user_id


def user_id_for_session(session_key: str) -> str | None:
    """Return the id of the user this session signed in, if this process has served it."""
    return _session_users.get(session_key)


def copy_key_for_session(session_key: str) -> str | None:
    """Return the cache key of the copy of the user this session signed in, if known here."""
    user_id = _session_users.get(session_key)
    if user_id is None or not is_shared():
        return None
    return _user_copies().key(user_id)


def forget(user_ids: Iterable[object]) -> None:
    """Drop the kept copies of these users: their rows changed or are gone."""
    _user_copies().drop(str(pk) for pk in user_ids)


def _without_password(user: Any) -> Any:
    kept = copy.copy(user)
    kept.__dict__.pop("password", None)
    return kept
