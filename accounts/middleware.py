import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from accounts import services


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
