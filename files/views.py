"""Downloads: every stored file is reached through this access-checked view."""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from files import access, responses


@require_safe
def download(request: HttpRequest, file_id: int) -> HttpResponseBase:
    """Stream a file from local disk, or redirect to a short-lived signed URL.

    Access is decided before any URL is made. A visitor who isn't signed in is
    sent to log in for any file but a public cover, whether it exists or not.
    """
    try:
        stored = access.get_file_for_user(request.user, file_id)
    except Http404:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise
    inline = stored.content_type.startswith("image/")
    # A public cover is the same for everyone; anything else depends on who asks.
    cache_control = "public, max-age=300" if access.is_public(stored) else "private, max-age=0"

    return responses.file_response(stored, inline=inline, cache_control=cache_control)
