"""Request types for views, so type checking knows what middleware adds."""

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    # For the type checker only: at run time core imports no app above it.
    from accounts.models import User


class Request(HttpRequest):
    htmx: HtmxDetails


class AuthedRequest(Request):
    """A request behind `login_required`: `user` is a real account."""

    user: "User"
