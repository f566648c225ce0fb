"""A session's join token, and LiveKit's webhooks."""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from courses import access
from courses.models import CourseItem, ItemKind
from live import client, services, webhooks

_STORED = json.dumps({"received": True})
_DUPLICATE = json.dumps({"received": True, "duplicate": True})


@login_required
@require_POST
def join_token(request: HttpRequest, item_id: int) -> HttpResponse:
    """Answer {url, token, room} for the session's teacher or an enrolled student, in time."""
    item = get_object_or_404(
        CourseItem.objects.select_related("course"), pk=item_id, kind=ItemKind.SESSION
    )
    is_teacher = item.course.teacher_id == request.user.pk
    if not is_teacher and (
        access.get_enrollment(request.user, item.course) is None or not item.published
    ):
        raise Http404
    if not client.configured():
        return JsonResponse({"error": "Live classes aren't set up on this server."}, status=503)
    try:
        grants = services.join_grants(user=request.user, item=item, now=timezone.now())
    except services.JoinRefusedError as refusal:
        return JsonResponse({"error": refusal.message}, status=403)
    room = services.ensure_room(item=item)
    token = client.join_token(
        room=room.name,
        identity=grants.identity,
        name=grants.name,
        room_admin=grants.room_admin,
        room_record=grants.room_record,
        can_publish=grants.can_publish,
        can_publish_data=grants.can_publish_data,
        can_subscribe=grants.can_subscribe,
    )
    return JsonResponse({"url": client.server_url(), "token": token, "room": room.name})


@csrf_exempt
@require_POST
def livekit_webhook(request: HttpRequest) -> HttpResponse:
    """Store a verified LiveKit event once; anything unverified is refused and not stored."""
    try:
        body = request.body.decode("utf-8")
        event = client.receive_webhook(body, request.headers.get("Authorization", ""))
    except (client.BadWebhookError, UnicodeDecodeError):
        return HttpResponse("Bad signature.", status=401, content_type="text/plain")
    try:
        stored = webhooks.receive(event=event, body=body)
    except webhooks.NotAnEventError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    return HttpResponse(_STORED if stored else _DUPLICATE, content_type="application/json")
