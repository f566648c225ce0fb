"""Unchanged polls, answered before the rest of the request machinery.

Most requests of a live evening are open pages asking "anything new?" and
finding nothing: a channel's poll every few seconds, the header's unread badge
now and then. Their views answer those from the cache (`messaging.live`,
`messaging.badge`), but the request first passes every middleware (sessions,
CSRF, locale, messages, allauth, time zone, policies...) that a 304 has no use
for, and pays one round trip to Redis for the session and another for what it
compares. Placed right after the request id, `IdlePollMiddleware` recognises
both and answers their 304 from one round trip: the session, its user's copy
and the keys compared, read together (`accounts.sessions.glance`); the badge
takes one more for the versions its count was made at.

It answers only when the full path has nothing left to do for this request:
the session signs its user in as `accounts.user_cache` would accept, their
activity was recorded lately from the same address and browser (so nothing
would be written), today's policies were already checked in this session, the
cache vouches for the membership or the count, and the ETag sent is the
current one. Anything else, and every poll without Redis, goes down the full
path, which answers as it always has and puts back whatever was missing.
"""

import re
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from accounts import services as account_services
from accounts import sessions
from core import cache as shared_cache
from messaging import badge, conditional, live
from privacy.middleware import policies_checked

_SAMPLE_ID = 918273645


class IdlePollMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._paths: tuple[re.Pattern[str], str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "GET"
            and "HTTP_IF_NONE_MATCH" in request.META
            and shared_cache.is_shared()
        ):
            answer = self.unchanged(request)
            if answer is not None:
                return answer
        return self.get_response(request)

    def unchanged(self, request: HttpRequest) -> HttpResponse | None:
        """Return the 304 for an unchanged poll or badge if nothing else needs doing, else None."""
        poll_path, badge_path = self.paths()
        if request.path_info == badge_path:
            return _unchanged(request, badge.keys, _badge_etag)
        found = poll_path.fullmatch(request.path_info)
        if found is None:
            return None
        pk = int(found["pk"])
        return _unchanged(
            request, lambda user_id: live.poll_keys(pk, user_id), partial(_conversation_etag, pk)
        )

    def paths(self) -> tuple[re.Pattern[str], str]:
        """The poll's path (its conversation id as `pk`) and the badge's, from the URLs."""
        if self._paths is None:
            sample = reverse("messaging:poll", args=[_SAMPLE_ID])
            head, tail = sample.split(str(_SAMPLE_ID))
            poll = re.compile(f"{re.escape(head)}(?P<pk>[0-9]{{1,18}}){re.escape(tail)}")
            self._paths = (poll, reverse("messaging:unread"))
        return self._paths


def _unchanged(
    request: HttpRequest,
    keys: Callable[[str], list[str]],
    current_etag: Callable[[sessions.Glance], str | None],
) -> HttpResponse | None:
    """Answer 304 if the session needs nothing done and `current_etag` is the one sent."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if not session_key or not account_services.activity_recorded_lately(session_key, request.META):
        return None
    seen = sessions.glance(session_key, keys)
    if seen is None or not policies_checked(seen.session, seen.user):
        return None
    etag = current_etag(seen)
    if etag is None or not conditional.etag_matches(request, etag):
        return None
    response = conditional.not_modified(etag)
    patch_vary_headers(response, ("Cookie",))
    return response


def _conversation_etag(conversation_id: int, seen: sessions.Glance) -> str | None:
    version = live.cached(conversation_id, seen.user.pk, seen.found).vouched_version
    if version is None:
        return None
    return conditional.conversation_etag(conversation_id, version, seen.user)


def _badge_etag(seen: sessions.Glance) -> str | None:
    count = badge.kept_total(seen.user.pk, seen.found)
    return None if count is None else conditional.unread_etag(count)
