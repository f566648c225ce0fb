from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from privacy import documents, services

SESSION_KEY = "privacy_policies_ok"

# Pages a person must still reach while a policy waits for acceptance.
_OPEN_PREFIXES = (
    "/policies/",
    "/terms/",
    "/privacy/",
    "/instructor-agreement/",
    "/community-guidelines/",
    "/accounts/logout/",
    "/static/",
    "/healthz",
    "/preferences/",
)


class PolicyAcceptanceMiddleware:
    """Send a signed-in person to the re-accept page when a required policy changed.

    The session remembers the exact set of versions already checked, so the
    database is asked only once per session and version set.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and not policies_checked(request.session, user)
        ):
            if services.missing_acceptances(user):
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('privacy:accept')}?{query}")
            request.session[SESSION_KEY] = _current(user)
        return self.get_response(request)


def policies_checked(session: Mapping[str, Any], user: Any) -> bool:
    """Tell whether this session already checked that `user` accepted today's policies."""
    return session.get(SESSION_KEY) == _current(user)


def _current(user: Any) -> str:
    return documents.fingerprint(documents.required_for(user))
