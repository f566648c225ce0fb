"""Authorization-matrix entries for live rooms' join tokens and LiveKit's webhooks.

alice teaches a course with a session in bob's enrolment; LiveKit is not
configured in the matrix, so her and bob's requests get as far as "not set up"
(503) and no token is minted; everyone else is told the session doesn't exist.
"""

from django.urls import reverse

from courses.models import Delivery, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
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
    everyone,
)

NOT_SET_UP = Outcome(503)
UNSIGNED = Outcome(401)


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice)
    Enrollment.objects.create(course=course, student=bob)
    ctx.objects["live_session"] = CourseItemFactory.create(
        course=course, session=True, delivery=Delivery.LIVE
    )


ENTRIES: dict[str, Entry] = {
    "live:join_token": Entry(
        get={
            ANON: TO_LOGIN,
            STUDENT: NOT_ALLOWED,
            OTHER: NOT_ALLOWED,
            OWNER: NOT_ALLOWED,
            STAFF: NOT_ALLOWED,
        },
        post={
            ANON: TO_LOGIN,
            STUDENT: NOT_SET_UP,
            OTHER: NOT_FOUND,
            OWNER: NOT_SET_UP,
            STAFF: NOT_FOUND,
        },
        url=lambda ctx: reverse("live:join_token", args=[ctx.objects["live_session"].pk]),
    ),
    "live:livekit_webhook": Entry(get=everyone(NOT_ALLOWED), post=everyone(UNSIGNED)),
}
