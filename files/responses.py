"""The one way a stored file reaches a browser, for every view that serves one."""

import logging

from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase

from core import storage
from files.models import StoredFile

logger = logging.getLogger(__name__)


def file_response(stored: StoredFile, *, inline: bool, cache_control: str) -> HttpResponseBase:
    """Stream `stored` from local disk, or redirect to a short-lived signed URL.

    Callers decide access and caching first; a missing blob is a 404, logged.
    """
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
    except OSError:  # FileNotFoundError, IsADirectoryError, a disk gone away
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
