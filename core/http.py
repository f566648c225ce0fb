"""Request types for views, so type checking knows what middleware adds."""

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    # For the type checker only: at run time core imports no app above it.
    from accounts.models import User


class Request(HttpRequest):
    htmx: HtmxDetails


class AuthedRequest(Request):
    """A request behind `login_required`: `user` is a real account."""

    user: "User"


def safe_next_path(request: HttpRequest, url: str | None) -> str | None:
    """Return `url` when it is a path on this site, else None.

    Only paths are kept: given to `redirect()`, a bare word would be looked up as
    a view name and fail, and anything with a scheme or host may leave the site.
    """
    if not url or not url.startswith("/") or not url.isprintable():
        return None
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if allowed else None
