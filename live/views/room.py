"""The live class page: a device check, then the room, all run by static/live/room.js.

The page itself hands out no token: the script asks `live:join_token` for one
when the person presses Join, so a page left open overnight never holds a
stale one. When the room can't be joined now, the page says why instead.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from courses import access
from courses.models import CourseItem, Delivery, ItemKind
from live import client, services
from live.models import LiveRoom

# Stands in for a participant's identity in the control URLs the script fills in.
IDENTITY_PLACEHOLDER = "__identity__"
# How long the script waits for LiveKit before saying it can't reach the server.
CONNECT_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Closed:
    """Why the room can't be joined now: a code the page picks its words by, and a sentence."""

    reason: str
    message: str


@login_required
@require_GET
def join_page(request: HttpRequest, item_id: int) -> HttpResponse:
    """Show the join page to the session's teacher and enrolled students, or say why not."""
    item, is_teacher = _get_session_for_member(request.user, item_id)
    room = LiveRoom.objects.filter(item=item).first()
    now = timezone.now()
    admitted = _admit(request.user, item, room, now)
    context: dict[str, Any] = {
        "item": item,
        "course": item.course,
        "is_teacher": is_teacher,
        "item_url": reverse("courses:item", args=[item.course.slug, item.pk]),
        "viewer_tz": timezone.get_current_timezone_name(),
    }
    if isinstance(admitted, Closed):
        opens, closes = services.join_window(item)
        context |= {"closed": admitted, "opens_at": opens, "closes_at": closes}
        return render(request, "live/closed.html", context)
    context |= {
        # Students publish when the course lets them or the teacher invited them on stage.
        "may_publish": admitted.can_publish,
        "recording_enabled": is_teacher and client.recordings_configured(),
    }
    context["room_config"] = _room_config(request, item, context)
    return render(request, "live/room.html", context)


def _get_session_for_member(user: Any, item_id: int) -> tuple[CourseItem, bool]:
    """Return the session and whether `user` teaches it; 404 for anyone not in the course."""
    item = get_object_or_404(
        CourseItem.objects.select_related("course__teacher"), pk=item_id, kind=ItemKind.SESSION
    )
    if item.course.teacher_id == user.pk:
        return item, True
    if not item.published or access.get_enrollment(user, item.course) is None:
        raise Http404
    return item, False


def _admit(
    user: Any, item: CourseItem, room: LiveRoom | None, now: datetime
) -> Closed | services.JoinGrants:
    """Return what `user` may do in `item`'s room at `now`, or why they can't join it now."""
    if item.delivery != Delivery.LIVE:
        return Closed("not_live", "This session takes place on an external link, not on Lectern.")
    if not client.configured():
        return Closed("not_configured", "Live classes aren't set up on this server.")
    opens, closes = services.join_window(item)
    if now < opens:
        minutes = int(services.JOIN_EARLY.total_seconds() // 60)
        message = f"The room opens {minutes} minutes before the session starts."
        return Closed("not_open_yet", message)
    if room is not None and room.ended_at is not None:
        return Closed("ended", "The teacher ended this session.")
    if now > closes:
        return Closed("ended", "This session has ended.")
    is_teacher = item.course.teacher_id == user.pk
    if room is not None and not is_teacher and services.identity_for(user) in room.removed:
        return Closed("removed", "The teacher removed you from this session.")
    try:
        return services.join_grants(user=user, item=item, now=now, room=room)
    except services.JoinRefusedError as refusal:
        return Closed("refused", refusal.message)


def _room_config(request: HttpRequest, item: CourseItem, context: dict[str, Any]) -> dict[str, Any]:
    """Return what the page's script needs: where to ask for a token, and who is asking."""
    config: dict[str, Any] = {
        "tokenUrl": reverse("live:join_token", args=[item.pk]),
        "itemUrl": context["item_url"],
        "csrfToken": get_token(request),
        "identity": services.identity_for(request.user),
        "teacherIdentity": services.identity_for(item.course.teacher),
        "isTeacher": context["is_teacher"],
        "mayPublish": context["may_publish"],
        "recordingEnabled": context["recording_enabled"],
        "connectTimeoutMs": CONNECT_TIMEOUT_MS,
    }
    if context["is_teacher"]:
        config["controls"] = _control_urls(item)
    return config


def _control_urls(item: CourseItem) -> dict[str, str]:
    """Return the teacher's control URLs; the per-participant ones hold a placeholder."""
    per_person = {
        name: reverse(f"live:{name}", args=[item.pk, IDENTITY_PLACEHOLDER])
        for name in ("mute", "remove", "stage")
    }
    per_room = {
        name: reverse(f"live:{name}", args=[item.pk])
        for name in ("end", "recording_start", "recording_stop")
    }
    return per_person | per_room
