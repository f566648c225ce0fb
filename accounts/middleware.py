import zoneinfo
from collections.abc import Callable
from typing import Any

from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject

from accounts import services, user_cache


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with the signed-in user read from the shared cache (`accounts.user_cache`).

    `request.user` stays lazy: a request that never looks at it loads nothing.
    `request.auser` (async views) is Django's own and loads the row.
    """

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _get_user(request))  # type: ignore[assignment]


def _get_user(request: Any) -> Any:
    if not hasattr(request, "_cached_user"):
        request._cached_user = user_cache.get_user(request)
    return request._cached_user


class UserTimezoneMiddleware:
    """Show times in the signed-in person's time zone and language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SessionActivityMiddleware:
    """Keep the sessions page's address, browser and "last seen" up to date, cheaply.

    allauth's own tracking writes the session's row on every signed-in request,
    idle polls included: on SQLite that is a write lock per click. This writes
    when the session is new to it, when its address or browser changed, and
    otherwise at most every `services.SESSION_ACTIVITY_SECONDS`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and request.session.session_key:
            services.record_session_activity(request=request)
        return self.get_response(request)
