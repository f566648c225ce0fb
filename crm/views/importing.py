"""Importing contacts from a CSV file: upload, preview with each bad row's reason, import.

The checked file waits in the cache between the preview and the import (an
hour), under a random key tied to the teacher, so nothing is written before the
teacher says so.
"""

import secrets

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from core.http import AuthedRequest
from crm import imports
from crm.forms import ImportForm
from crm.views.access import teacher_only

KEEP_SECONDS = 3600
PREVIEW_ROWS = 20
BAD_ROWS_SHOWN = 500
EXPIRED = "That preview has expired or was already imported: upload the file again."


def _key(user_id: int, token: str) -> str:
    return f"crm:import:{user_id}:{token}"


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: AuthedRequest) -> HttpResponse:
    """Take a CSV file and show what importing it would do."""
    teacher_only(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "GET":
        return render(request, "crm/import_upload.html", {"form": form})
    if not form.is_valid():
        return render(request, "crm/import_upload.html", {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    try:
        if upload.size > imports.MAX_BYTES:
            raise imports.ImportFileError("The file is over 5 MB: split it.")
        text = imports.decode(upload.read())
        reading = imports.read_csv(text)
    except imports.ImportFileError as error:
        form.add_error("file", str(error))
        return render(request, "crm/import_upload.html", {"form": form}, status=400)
    token = secrets.token_urlsafe(16)
    cache.set(_key(request.user.pk, token), text, KEEP_SECONDS)
    return render(
        request,
        "crm/import_preview.html",
        {
            "token": token,
            "good": reading.good[:PREVIEW_ROWS],
            "good_count": len(reading.good),
            "bad": reading.bad[:BAD_ROWS_SHOWN],
            "bad_count": len(reading.bad),
            "file_name": upload.name,
        },
    )


@login_required
@require_POST
def import_confirm(request: AuthedRequest) -> HttpResponse:
    """Import the good rows of the file previewed; show what was done."""
    teacher_only(request.user)
    token = request.POST.get("token", "")[:64]
    text = cache.get(_key(request.user.pk, token)) if token else None
    if text is None:
        return render(
            request,
            "crm/import_upload.html",
            {"form": ImportForm(), "problem": EXPIRED},
            status=400,
        )
    cache.delete(_key(request.user.pk, token))
    reading = imports.read_csv(text)
    done = imports.import_rows(teacher=request.user, rows=reading.good)
    return render(
        request,
        "crm/import_done.html",
        {"summary": done, "bad_count": len(reading.bad)},
    )
