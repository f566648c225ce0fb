"""An unchanged poll, answered before the rest of the request machinery.

Most requests of a live evening are the open channels' polls finding nothing
new. The poll view answers those from the cache (`messaging.live`), but the
request first passes every middleware (sessions, CSRF, locale, messages,
allauth, time zone, policies...) that a 304 has no use for, and pays one round
trip to Redis for the session and another for the version. Placed right after
the request id, `IdlePollMiddleware` recognises a poll and answers its 304
from one round trip: the session, its user's copy, the conversation's version
and the person's membership, read together (`accounts.sessions.glance`).

It answers only when the full path has nothing left to do for this request:
the session signs its user in as `accounts.user_cache` would accept, their
activity was recorded lately from the same address and browser (so nothing
would be written), today's policies were already checked in this session, the
cache vouches for the membership, and the ETag sent is the current one.
Anything else, and every poll without Redis, goes down the full path, which
answers as it always has and puts back whatever was missing.
"""

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from accounts import services as account_services
from accounts import sessions
from core import cache as shared_cache
from messaging import conditional, live
from privacy.middleware import policies_checked

_SAMPLE_ID = 918273645


class IdlePollMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._poll_path: re.Pattern[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and shared_cache.is_shared():
            found = self.poll_path().fullmatch(request.path_info)
            if found is not None:
                answer = _unchanged(request, int(found["pk"]))
                if answer is not None:
                    return answer
        return self.get_response(request)

    def poll_path(self) -> re.Pattern[str]:
        """The poll's path with its conversation id as `pk`, from the URL configuration."""
        if self._poll_path is None:
            sample = reverse("messaging:poll", args=[_SAMPLE_ID])
            head, tail = sample.split(str(_SAMPLE_ID))
            self._poll_path = re.compile(f"{re.escape(head)}(?P<pk>[0-9]{{1,18}}){re.escape(tail)}")
        return self._poll_path


def _unchanged(request: HttpRequest, conversation_id: int) -> HttpResponse | None:
    """Return the 304 for an unchanged poll if nothing else needs doing, else None."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if "HTTP_IF_NONE_MATCH" not in request.META or not session_key:
        return None
    if not account_services.activity_recorded_lately(session_key, request.META):
        return None
    seen = sessions.glance(session_key, lambda user_id: live.poll_keys(conversation_id, user_id))
    if seen is None or not policies_checked(seen.session, seen.user):
        return None
    version = live.cached(conversation_id, seen.user.pk, seen.found).vouched_version
    if version is None:
        return None
    etag = conditional.conversation_etag(conversation_id, version, seen.user)
    if not conditional.etag_matches(request, etag):
        return None
    response = conditional.not_modified(etag)
    patch_vary_headers(response, ("Cookie",))
    return response
