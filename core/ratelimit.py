"""Fixed-window rate limits over the cache (Redis in production).

Each counter lives under a key that names its window, and the cache entry
expires when the window ends, so nothing has to sweep old counters. allauth
keeps its own limits for log-in, sign-up and password reset; this helper is for
our own views, and `retry_after_for_path` lets the shared 429 page tell
allauth's refusals when to retry too.

Without a reachable cache nothing can be counted, and the limits fail open:
every hit is allowed and a warning is logged. The cache (`core.cache`)
already answers an outage as an empty store, so allauth's limits open too.
"""

import logging
import time
from dataclasses import dataclass

from allauth.core.internal import httpkit
from allauth.core.internal.ratelimit import parse_rates
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.cache import UNREACHABLE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `count` hits per `window` seconds for one action."""

    action: str
    count: int
    window: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the current window ends


def client_ip(request: HttpRequest) -> str:
    """Return the address of the client, as far as our own proxies vouch for it.

    allauth reads the same setting (ALLAUTH_TRUSTED_PROXY_COUNT, from
    TRUSTED_PROXY_COUNT), so its limits and ours count the same address. With no
    trusted proxy this is the socket's address and X-Forwarded-For is ignored;
    with N, the N-th value from the right of X-Forwarded-For, the last one that
    a proxy of ours wrote: anything to its left came from the client and can be
    forged.
    """
    try:
        ip = httpkit.get_client_ip(request)
    except ImproperlyConfigured:
        # Fewer forwarded values than proxies: the request did not come through
        # all of them, so nothing in the header can be vouched for.
        ip = httpkit.clean_client_ip(request.META.get("REMOTE_ADDR", ""))
    return ip or "unknown"


def hit(limit: Limit, key: str) -> Verdict:
    """Count one hit against `limit` for `key` and say whether it is allowed."""
    now = int(time.time())
    window_start = now - now % limit.window
    retry_after = max(1, window_start + limit.window - now)
    cache_key = f"rl:{limit.action}:{key}:{window_start}"
    try:
        # add() is atomic: only the first hit of a window creates the counter.
        if cache.add(cache_key, 1, timeout=retry_after):
            return Verdict(allowed=limit.count >= 1, retry_after=retry_after)
        try:
            used = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.add(cache_key, 1, timeout=retry_after)
            used = 1
    except UNREACHABLE:
        # Refusing everyone while the cache is away would take the site down with it.
        log.warning("ratelimit.unavailable", extra={"action": limit.action}, exc_info=True)
        return Verdict(allowed=True, retry_after=retry_after)
    return Verdict(allowed=used <= limit.count, retry_after=retry_after)


def too_many_requests(request: HttpRequest, retry_after: int | None) -> HttpResponse:
    """Render the 429 page, saying when to try again."""
    response = render(
        request,
        "429.html",
        {"retry_after": retry_after, "retry_minutes": -(-(retry_after or 60) // 60)},
        status=429,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


# allauth's actions by the URL that consumes them, to tell its 429s when to retry.
_ALLAUTH_ACTIONS_BY_URL = {
    "account_login": ("login", "login_failed"),
    "account_signup": ("signup",),
    "account_reset_password": ("reset_password",),
    "account_change_password": ("change_password",),
    "account_email": ("manage_email",),
}


def retry_after_for_actions(*actions: str) -> int | None:
    """Return the longest window among allauth's limits for `actions`, in seconds."""
    windows = [
        rate.duration
        for action in actions
        for rate in parse_rates(settings.ACCOUNT_RATE_LIMITS.get(action))
    ]
    return int(max(windows)) if windows else None


def retry_after_for_path(request: HttpRequest) -> int | None:
    """Return the longest window among allauth's limits for this URL, in seconds."""
    match = getattr(request, "resolver_match", None)
    actions = _ALLAUTH_ACTIONS_BY_URL.get(match.url_name if match else "", ())
    return retry_after_for_actions(*actions)
