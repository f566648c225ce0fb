"""Download my data: ask for an export, watch it being prepared, download the ZIP."""

import logging
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from core import ratelimit, storage
from core.http import AuthedRequest
from privacy import export as exports
from privacy.models import ExportRequest

logger = logging.getLogger(__name__)

PANEL = "privacy/_export_panel.html"


def _panel(request: HttpRequest, status: int = 200, **extra: object) -> HttpResponse:
    context = {**exports.panel_context(request.user), **extra}
    return render(request, PANEL, context, status=status)


@login_required
@require_POST
def request_export(request: HttpRequest) -> HttpResponse:
    """Queue an export; htmx gets the panel back, a plain form goes back to Settings → Privacy."""
    try:
        exports.request_export(request.user)
    except exports.TooManyRequestsError as refused:
        if request.htmx:  # type: ignore[attr-defined]
            retry_at = timezone.now() + timedelta(seconds=refused.retry_after)
            response = _panel(request, notice="too_many", retry_at=retry_at)
            response["Retry-After"] = str(refused.retry_after)
            return response
        return ratelimit.too_many_requests(request, refused.retry_after)
    except exports.AlreadyPreparingError:
        if request.htmx:  # type: ignore[attr-defined]
            return _panel(request, notice="already")
        messages.info(
            request, "Your data is already being prepared. We'll email you when it's ready."
        )
    else:
        if request.htmx:  # type: ignore[attr-defined]
            return _panel(request)
        messages.success(request, "We're preparing your data. We'll email you when it's ready.")
    return redirect("privacy:dashboard")


@login_required
@require_safe
def export_status(request: HttpRequest) -> HttpResponse:
    """Return the export panel; it polls this while the export is being prepared."""
    response = _panel(request)
    response["Cache-Control"] = "private, no-store"
    return response


def _link_problem(request: HttpRequest, *, status: int, title: str, body: str) -> HttpResponse:
    return render(
        request,
        "privacy/export/link_problem.html",
        {"title": title, "body": body, "status": status},
        status=status,
    )


@login_required
@require_safe
def download_export(request: AuthedRequest, export_id: int, token: str) -> HttpResponseBase:
    """Stream the person's own export, or redirect to a short-lived signed URL on S3.

    The link in the email is signed and expires with the file; it also needs
    the person to be logged in as the account it belongs to.
    """
    user = request.user  # signed in: login_required
    export = ExportRequest.objects.filter(pk=export_id, user=user).first()
    if export is None:
        return _link_problem(
            request,
            status=404,
            title="This download link doesn't work",
            body="There is no export at this address for the account you're logged in with. "
            "If the link came in an email, log in with the address it was sent to.",
        )
    expired = _link_problem(
        request,
        status=410,
        title="This download link has expired",
        body="Exports can be downloaded for a limited time, then the file is deleted. "
        "Ask for a new copy of your data in Settings → Privacy.",
    )
    try:
        exports.check_download_token(export, token)
    except signing.SignatureExpired:
        return expired
    except signing.BadSignature:
        return _link_problem(
            request,
            status=404,
            title="This download link doesn't work",
            body="The link is incomplete or was changed. Copy the whole link from the email, "
            "or download your data from Settings → Privacy.",
        )
    if export.state == ExportRequest.State.EXPIRED or (
        export.expires_at is not None and export.expires_at <= timezone.now()
    ):
        return expired
    if not exports.is_downloadable(export):
        return _link_problem(
            request,
            status=404,
            title="This export isn't ready",
            body="Your data is still being prepared, or preparing it failed. "
            "Settings → Privacy shows where it stands.",
        )
    filename = exports.download_filename(export)
    if not storage.is_local(export.file.storage):
        url = storage.signed_url(
            export.file, filename=filename, content_type="application/zip", inline=False
        )
        response: HttpResponseBase = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        return response
    try:
        handle = export.file.storage.open(export.file.name or "", "rb")
    except (FileNotFoundError, IsADirectoryError):
        logger.error("Export %s has no file at %s", export.pk, export.file.name)
        return _link_problem(
            request,
            status=404,
            title="This export's file is missing",
            body="Ask for a new copy of your data in Settings → Privacy.",
        )
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
