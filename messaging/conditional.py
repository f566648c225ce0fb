"""ETags of what messaging's live parts show, and the answers that use them.

A page's poller and the header's badge send back the ETag of what they
already show; "304 Not Modified" means nothing changed for this viewer.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified


def conversation_etag(conversation_id: int, version: int, user: Any) -> str:
    """Return the ETag of what a conversation page shows to `user` at `version`.

    Whether the viewer sends read receipts changes what they see, so it is part of it.
    """
    return f'W/"c{conversation_id}.v{version}.r{int(user.send_read_receipts)}"'


def unread_etag(count: int) -> str:
    """Return the ETag of the header's unread badge showing `count`."""
    return f'W/"u{count}"'


def etag_matches(request: HttpRequest, etag: str) -> bool:
    """Tell whether the request's If-None-Match names `etag` (weak or strong)."""
    sent = request.headers.get("If-None-Match", "")
    return any(tag.strip().removeprefix("W/") == etag.removeprefix("W/") for tag in sent.split(","))


def not_modified(etag: str) -> HttpResponse:
    return with_etag(HttpResponseNotModified(), etag)


def with_etag(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-store"
    return response
