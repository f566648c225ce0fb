"""Authorization-matrix entries for the teacher's live controls and the recordings' views.

alice teaches a course with a live session in bob's enrolment, and a ready
recording of it, which only she may delete. LiveKit is not configured in the
matrix, so alice's controls get as far as "not set up" (503) and nothing is
sent anywhere; bob is refused (403); everyone else is told the session
doesn't exist. No recordings' bucket is configured either: alice and bob
reach "not set up" on the recording, everyone else is told it doesn't exist.
"""

from django.urls import reverse

from courses.models import Delivery, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import services
from live.models import Recording
from tests.authz import (
    ANON,
    NOT_ALLOWED,
    NOT_FOUND,
    OTHER,
    OWNER,
    STAFF,
    STUDENT,
    TO_LOGIN,
    Context,
    Entry,
    Outcome,
)

NOT_SET_UP = Outcome(503)
FORBIDDEN = Outcome(403)

_POST_ONLY = {
    ANON: TO_LOGIN,
    STUDENT: NOT_ALLOWED,
    OTHER: NOT_ALLOWED,
    OWNER: NOT_ALLOWED,
    STAFF: NOT_ALLOWED,
}
_TEACHER_ONLY = {
    ANON: TO_LOGIN,
    STUDENT: FORBIDDEN,
    OTHER: NOT_FOUND,
    OWNER: NOT_SET_UP,
    STAFF: NOT_FOUND,
}


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice)
    Enrollment.objects.create(course=course, student=bob)
    item = CourseItemFactory.create(course=course, session=True, delivery=Delivery.LIVE)
    room = services.ensure_room(item=item)
    ctx.objects["live_controls_session"] = item
    ctx.objects["live_controls_identity"] = services.identity_for(bob)
    ctx.objects["live_recording"] = Recording.objects.create(
        room=room,
        egress_id="EG_authz",
        status=Recording.Status.READY,
        started_by=alice,
        storage_key=f"recordings/{room.name}/authz.mp4",
    )


def _per_person(name: str) -> Entry:
    return Entry(
        get=_POST_ONLY,
        post=_TEACHER_ONLY,
        url=lambda ctx: reverse(
            f"live:{name}",
            args=[ctx.objects["live_controls_session"].pk, ctx.objects["live_controls_identity"]],
        ),
        data={"on": "1"} if name == "stage" else {},
    )


def _per_room(name: str) -> Entry:
    return Entry(
        get=_POST_ONLY,
        post=_TEACHER_ONLY,
        url=lambda ctx: reverse(f"live:{name}", args=[ctx.objects["live_controls_session"].pk]),
    )


ENTRIES: dict[str, Entry] = {
    "live:mute": _per_person("mute"),
    "live:remove": _per_person("remove"),
    "live:stage": _per_person("stage"),
    "live:end": _per_room("end"),
    "live:recording_start": _per_room("recording_start"),
    "live:recording_stop": _per_room("recording_stop"),
    "live:recording": Entry(
        get={
            ANON: TO_LOGIN,
            STUDENT: NOT_SET_UP,
            OTHER: NOT_FOUND,
            OWNER: NOT_SET_UP,
            STAFF: NOT_FOUND,
        },
        post={
            ANON: NOT_ALLOWED,
            STUDENT: NOT_ALLOWED,
            OTHER: NOT_ALLOWED,
            OWNER: NOT_ALLOWED,
            STAFF: NOT_ALLOWED,
        },
        url=lambda ctx: reverse("live:recording", args=[ctx.objects["live_recording"].pk]),
    ),
    "live:recording_delete": Entry(
        get=_POST_ONLY,
        post={
            ANON: TO_LOGIN,
            STUDENT: NOT_FOUND,
            OTHER: NOT_FOUND,
            OWNER: lambda ctx: Outcome(
                302,
                reverse(
                    "courses:item",
                    args=[
                        ctx.objects["live_controls_session"].course.slug,
                        ctx.objects["live_controls_session"].pk,
                    ],
                ),
            ),
            STAFF: NOT_FOUND,
        },
        url=lambda ctx: reverse("live:recording_delete", args=[ctx.objects["live_recording"].pk]),
    ),
}
