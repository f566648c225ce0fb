from collections.abc import Callable
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
        if user.is_authenticated and not request.path.startswith(_OPEN_PREFIXES):
            current = documents.fingerprint(documents.required_for(user))
            if request.session.get(SESSION_KEY) != current:
                if services.missing_acceptances(user):
                    query = urlencode({"next": request.get_full_path()})
                    return HttpResponseRedirect(f"{reverse('privacy:accept')}?{query}")
                request.session[SESSION_KEY] = current
        return self.get_response(request)
