"""The teacher's controls in a live room, and the access-checked way to a recording.

The controls answer the room page's script in JSON: `{"ok": true, ...}`, or
`{"error": "a sentence"}` with a 4xx, 502 or 503 status. Only the session's
teacher may use them: an enrolled student is told so (403), anyone else is
told the session doesn't exist (404). When LiveKit can't be reached, nothing
is changed and the answer says so (502).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST, require_safe

from courses import access
from courses.models import CourseItem, Delivery, ItemKind
from live import client, recordings, services
from live.models import LiveRoom, Recording

type Control = Callable[..., HttpResponse]


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _teacher_control(view: Callable[..., HttpResponse]) -> Control:
    """Check the teacher's rights and the server's set-up; hand the view the session's room.

    Refusals and LiveKit's unavailability become JSON answers here, so each
    control only says what it does.
    """

    @wraps(view)
    def control(request: HttpRequest, item_id: int, **kwargs: Any) -> HttpResponse:
        item = get_object_or_404(
            CourseItem.objects.select_related("course"), pk=item_id, kind=ItemKind.SESSION
        )
        if item.course.teacher_id != request.user.pk:
            if item.published and access.get_enrollment(request.user, item.course) is not None:
                return _error("Only the course's teacher can do that.", 403)
            raise Http404
        if not client.configured():
            return _error("Live classes aren't set up on this server.", 503)
        if item.delivery != Delivery.LIVE:
            return _error("This session takes place on an external link, not on Lectern.", 409)
        room = services.ensure_room(item=item)
        try:
            return view(request, room, **kwargs)
        except (services.ControlRefusedError, recordings.RecordingRefusedError) as refusal:
            return _error(refusal.message, 409)
        except client.LiveKitUnavailableError as error:
            return _error(f"LiveKit didn't take it, so nothing changed. {error.message}", 502)

    return login_required(require_POST(control))


@_teacher_control
def mute(request: HttpRequest, room: LiveRoom, identity: str) -> HttpResponse:
    """Mute what one participant publishes now."""
    muted = services.mute(room=room, identity=identity, teacher=request.user)
    return JsonResponse({"ok": True, "muted": muted})


@_teacher_control
def remove(request: HttpRequest, room: LiveRoom, identity: str) -> HttpResponse:
    """Take one participant out of the room, for the rest of the session."""
    services.remove(room=room, identity=identity, teacher=request.user)
    return JsonResponse({"ok": True, "removed": identity})


@_teacher_control
def stage(request: HttpRequest, room: LiveRoom, identity: str) -> HttpResponse:
    """Invite a student on stage (`on=1`) or send them back to the audience (`on=0`)."""
    on = request.POST.get("on")
    if on not in ("0", "1"):
        return _error("Say whether the student goes on stage (on=1) or leaves it (on=0).", 400)
    room = services.set_on_stage(room=room, identity=identity, on=on == "1", teacher=request.user)
    return JsonResponse({"ok": True, "identity": identity, "on_stage": identity in room.on_stage})


@_teacher_control
def end(request: HttpRequest, room: LiveRoom) -> HttpResponse:
    """End the session for everyone in it."""
    room = services.end(room=room)
    assert room.ended_at is not None
    return JsonResponse({"ok": True, "ended_at": room.ended_at.isoformat()})


@_teacher_control
def recording_start(request: HttpRequest, room: LiveRoom) -> HttpResponse:
    """Start recording the room into the recordings' storage."""
    if not client.recordings_configured():
        return _error("Recordings aren't set up on this server.", 503)
    recording = recordings.start(room=room, teacher=request.user)
    return JsonResponse({"ok": True, "recording": _recording(recording)})


@_teacher_control
def recording_stop(request: HttpRequest, room: LiveRoom) -> HttpResponse:
    """Stop the room's running recording; it is ready once LiveKit has written the file."""
    recording = recordings.stop(room=room)
    return JsonResponse({"ok": True, "recording": _recording(recording)})


def _recording(recording: Recording) -> dict[str, Any]:
    return {"id": recording.pk, "status": recording.status}


@require_safe
def recording(request: HttpRequest, recording_id: int) -> HttpResponseBase:
    """Redirect the teacher or an enrolled student to a short-lived signed URL of a recording.

    Access is decided before any URL is made; anyone else is told there is no
    such recording, and a visitor who isn't signed in is sent to log in.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = recordings.get_recording_for_viewer(request.user, recording_id)
    if not settings.LIVE_RECORDINGS_BUCKET:
        return HttpResponse(
            "Recordings aren't set up on this server.", status=503, content_type="text/plain"
        )
    url = client.recording_url(found.storage_key, filename=recordings.file_name(found))
    redirect = HttpResponseRedirect(url)
    # The signed URL expires within a minute: never keep the redirect.
    redirect["Cache-Control"] = "no-store"
    return redirect


@login_required
@require_POST
def recording_delete(request: HttpRequest, recording_id: int) -> HttpResponse:
    """The teacher deletes a finished recording; they are taken back to its session."""
    deleted = recordings.delete(teacher=request.user, recording_id=recording_id)
    messages.success(request, "Recording deleted. Its file is removed from storage too.")
    item = deleted.room.item
    return redirect("courses:item", slug=item.course.slug, item_id=item.pk)
