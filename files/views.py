"""Downloads: every stored file is reached through this access-checked view."""

import logging

from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from core import storage
from files import access

logger = logging.getLogger(__name__)


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

    if not storage.is_local(stored.blob.storage):
        url = storage.signed_url(
            stored.blob,
            filename=stored.original_name,
            content_type=stored.content_type,
            inline=inline,
        )
        redirect = HttpResponseRedirect(url)
        # The signed URL expires within a minute: never keep the redirect.
        redirect["Cache-Control"] = "no-store"
        return redirect

    try:
        handle = stored.blob.storage.open(stored.blob.name or "", "rb")
    except (FileNotFoundError, IsADirectoryError):
        logger.error("Stored file %s has no blob at %s", stored.pk, stored.blob.name)
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=stored.original_name,
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache_control
    return response
