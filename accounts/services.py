import hashlib
import time
from importlib import import_module
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore as DBSessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from core.ratelimit import client_ip
from privacy import documents
from privacy import services as privacy_services


@transaction.atomic
def complete_signup(
    *,
    user: User,
    first_name: str,
    last_name: str,
    is_teacher: bool,
    is_student: bool,
    organisation_name: str,
    country: str,
) -> None:
    """Store what the sign-up form asked and record the policies accepted there."""
    user.first_name = first_name
    user.last_name = last_name
    user.is_teacher = is_teacher
    user.is_student = is_student
    user.organisation_name = organisation_name if is_teacher else ""
    user.country = country
    user.save(
        update_fields=[
            "first_name", "last_name", "is_teacher", "is_student", "organisation_name", "country",
        ]
    )  # fmt: skip
    privacy_services.record_acceptances(user=user, docs=documents.required_for(user))


# A signed-in session's row is rewritten at most this often while nothing about it changes.
SESSION_ACTIVITY_SECONDS = 5 * 60
# How many sessions each process remembers having seen lately (see `record_session_activity`).
_SEEN_HERE_MAX = 20_000
_seen_here: dict[str, tuple[str, float]] = {}


def record_session_activity(*, request: HttpRequest) -> None:
    """Record the session's address, browser and "last seen" time, unless done lately.

    The cache remembers what was last written for each session and when: a
    request from the same address and browser within `SESSION_ACTIVITY_SECONDS`
    writes nothing. Each process also keeps, in its own memory, the request
    headers it last saw for a session and when its activity was recorded, so
    most requests neither work out the client's address nor make a round trip
    to the shared cache.
    """
    session_key = request.session.session_key or ""
    if activity_recorded_lately(session_key, request.META):
        return
    key, now = _seen_key(session_key), time.time()
    agent = request.META.get("HTTP_USER_AGENT", "")
    seen = hashlib.blake2b(f"{client_ip(request)}|{agent}".encode(), digest_size=16).hexdigest()
    last = cache.get(key)
    if last is None or last[0] != seen or not _within_window(last[1], now):
        # allauth's own record keeps its "session changed" signal and its field limits.
        UserSession.objects.create_from_request(request)
        last = (seen, now)
        cache.set(key, last, timeout=SESSION_ACTIVITY_SECONDS)
    if len(_seen_here) >= _SEEN_HERE_MAX:
        _seen_here.clear()
    _seen_here[key] = (_seen_headers(request.META), last[1])


def activity_recorded_lately(session_key: str, meta: dict[str, Any]) -> bool:
    """Tell whether this process recorded the session's activity lately, from these headers.

    True means `record_session_activity` would write nothing for such a request.
    """
    here = _seen_here.get(_seen_key(session_key))
    return (
        here is not None and here[0] == _seen_headers(meta) and _within_window(here[1], time.time())
    )


def _seen_key(session_key: str) -> str:
    return f"session-seen:{session_key}"


def _seen_headers(meta: dict[str, Any]) -> str:
    """What a request says about where it comes from: its address, proxy chain and browser."""
    return "\n".join(
        [
            meta.get("REMOTE_ADDR", ""),
            meta.get("HTTP_X_FORWARDED_FOR", ""),
            meta.get("HTTP_USER_AGENT", ""),
        ]
    )


def _within_window(recorded_at: float, now: float) -> bool:
    return 0 <= now - recorded_at < SESSION_ACTIVITY_SECONDS


def update_user(*, user: User, fields: dict[str, Any]) -> None:
    """Save the changed profile or preference fields of `user`."""
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))


def sessions_for(user: User) -> list[UserSession]:
    """Return `user`'s live sessions, newest activity first, dropping dead ones.

    allauth's `purge_and_list` asks the session store about each session in
    turn; here one query reads every session with its stored data and one more
    deletes the dead ones, however many sessions there are.
    """
    if not _sessions_in_database():
        return sorted(
            UserSession.objects.purge_and_list(user), key=lambda s: s.last_seen_at, reverse=True
        )
    live_data = Session.objects.filter(
        session_key=OuterRef("session_key"), expire_date__gt=timezone.now()
    ).values("session_data")[:1]
    rows = UserSession.objects.filter(user=user).annotate(session_data=Subquery(live_data))
    store = _session_store_class()()
    live: list[UserSession] = []
    dead: list[UserSession] = []
    for row in rows.order_by("-last_seen_at"):
        data = store.decode(row.session_data) if row.session_data else {}
        (live if _signs_in(data, user) else dead).append(row)
    if dead:
        UserSession.objects.filter(pk__in=[row.pk for row in dead]).delete()
    return live


def _session_store_class() -> type[SessionBase]:
    return import_module(settings.SESSION_ENGINE).SessionStore


def _sessions_in_database() -> bool:
    # Both `db` and `cached_db` write every session to the Session table.
    return issubclass(_session_store_class(), DBSessionStore)


def _signs_in(data: dict[str, Any], user: User) -> bool:
    """Say whether decoded session data still signs `user` in, as Django would judge it."""
    if data.get(SESSION_KEY) != str(user.pk) or not user.is_active:
        return False
    if data.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return False
    session_hash = data.get(HASH_SESSION_KEY) or ""
    return bool(session_hash) and any(
        constant_time_compare(session_hash, candidate)
        for candidate in [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    )


def end_session(*, user: User, session_id: int) -> bool:
    """End one of `user`'s sessions; return False when it isn't theirs or is gone."""
    session = UserSession.objects.filter(user=user, pk=session_id).first()
    if session is None:
        return False
    session.end()
    return True


def end_other_sessions(*, user: User, request: HttpRequest) -> int:
    """End every session of `user` except the one making this request."""
    others = UserSession.objects.filter(user=user).exclude(
        session_key=request.session.session_key or ""
    )
    count = 0
    for session in others:
        session.end()
        count += 1
    return count
