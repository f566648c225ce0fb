"""The one way a stored file reaches a browser, for every view that serves one.

An uploaded file must never run script on Lectern's origin. So, whatever the
caller asks for:

- only raster images (PNG, JPEG, GIF, WebP) are shown inline; everything else
  is sent as an attachment, to be saved, never rendered as a page;
- the Content-Type is the one judged from the file's content at upload (see
  files.services), and anything unexpected goes out as application/octet-stream;
- `X-Content-Type-Options: nosniff` stops the browser guessing otherwise, and a
  sandboxing Content-Security-Policy keeps even a misjudged file inert.

Files on object storage get the same disposition and type through the signed
URL's response-header parameters.
"""

import logging

from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase

from core import storage
from files import services
from files.models import StoredFile

logger = logging.getLogger(__name__)

# No script, no plugins, no framing, nothing fetched: a file is shown or saved, nothing more.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; sandbox; frame-ancestors 'none'"
FALLBACK_TYPE = "application/octet-stream"


def served_type(stored: StoredFile) -> str:
    """Return the Content-Type to send: the checked one, or a type no browser renders."""
    return stored.content_type if stored.content_type in services.SERVED_TYPES else FALLBACK_TYPE


def may_show_inline(content_type: str) -> bool:
    """Say whether a file of this type may be shown in the browser rather than downloaded."""
    return content_type in services.INLINE_SAFE_TYPES


def file_response(stored: StoredFile, *, inline: bool, cache_control: str) -> HttpResponseBase:
    """Stream `stored` from local disk, or redirect to a short-lived signed URL.

    Callers decide access and caching first, and whether they would like the
    file shown inline; only a safe image type is. A missing blob is a 404, logged.
    """
    content_type = served_type(stored)
    inline = inline and may_show_inline(content_type)
    if not storage.is_local(stored.blob.storage):
        url = storage.signed_url(
            stored.blob,
            filename=stored.original_name,
            content_type=content_type,
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
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = cache_control
    return response
