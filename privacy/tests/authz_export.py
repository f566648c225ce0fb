"""Authorization-matrix entries for "Download my data".

alice has a ready export. Only she may download it; for anyone else the link
doesn't exist (404), and a visitor who isn't signed in is sent to log in.
"""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from privacy import export
from privacy.models import ExportRequest
from tests.authz import (
    ANON,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    OTHER,
    OWNER,
    STAFF,
    STUDENT,
    TO_LOGIN,
    Context,
    Entry,
    Outcome,
    signed_in,
)

BLOB_KEY = "exports/authz-export.zip"


def build(ctx: Context) -> None:
    if not default_storage.exists(BLOB_KEY):
        default_storage.save(BLOB_KEY, ContentFile(b"PK\x05\x06" + b"\x00" * 18))
    now = timezone.now()
    ctx.objects["alice_export"] = ExportRequest.objects.create(
        user=ctx.people["alice"],
        state=ExportRequest.State.READY,
        file=BLOB_KEY,
        size=22,
        finished_at=now,
        expires_at=now + timedelta(days=7),
        emailed_at=now,
    )


def _download_url(ctx: Context) -> str:
    alice_export = ctx.objects["alice_export"]
    return reverse(
        "privacy:export_download", args=[alice_export.pk, export.download_token(alice_export)]
    )


ENTRIES: dict[str, Entry] = {
    # The form posts back to Settings → Privacy; each person asks for their own export.
    "privacy:export_request": Entry(
        get=signed_in(NOT_ALLOWED),
        post=signed_in(Outcome(302, "privacy:dashboard")),
    ),
    "privacy:export_status": Entry(get=signed_in(OK)),
    "privacy:export_download": Entry(
        get={ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: OK, STAFF: NOT_FOUND},
        url=_download_url,
    ),
}
