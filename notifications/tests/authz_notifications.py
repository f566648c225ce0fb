"""Authorization-matrix entries for notifications, their settings and unsubscribe links.

bob has one notification (from alice's "authz-notifications-course", where he is
enrolled); anyone else asking for it gets a 404, as if it didn't exist. The
unsubscribe link needs no login: its signed token is the authority.
"""

from django.urls import reverse

from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from notifications import delivery
from notifications.models import Kind, Notification
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
    everyone,
    signed_in,
)

SLUG = "authz-notifications-course"
TO_LIST = Outcome(302, "notifications:list")
TO_PREFERENCES = Outcome(302, "notifications:preferences")


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG)
    Enrollment.objects.create(course=course, student=bob)
    ctx.objects["notifications_course"] = course
    ctx.objects["notification"] = Notification.objects.create(
        recipient=bob,
        kind=Kind.ANNOUNCEMENT,
        title="New announcement",
        url=reverse("courses:course", args=[SLUG]),
        course=course,
        dedupe_key="authz",
    )


def _bobs(outcome: Outcome) -> dict[str, Outcome]:
    return {
        ANON: TO_LOGIN,
        STUDENT: outcome,
        OTHER: NOT_FOUND,
        OWNER: NOT_FOUND,
        STAFF: NOT_FOUND,
    }


def _notification_url(name: str):
    return lambda ctx: reverse(f"notifications:{name}", args=[ctx.objects["notification"].pk])


ENTRIES: dict[str, Entry] = {
    "notifications:list": Entry(get=signed_in()),
    "notifications:open": Entry(
        get=_bobs(Outcome(302, f"/courses/{SLUG}/")),
        url=_notification_url("open"),
    ),
    "notifications:mark_read": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_bobs(TO_LIST),
        url=_notification_url("mark_read"),
    ),
    "notifications:mark_all_read": Entry(get=signed_in(NOT_ALLOWED), post=signed_in(TO_LIST)),
    "notifications:preferences": Entry(
        get=signed_in(),
        post=signed_in(TO_PREFERENCES),
        data={"email_mode": "digest", "digest_hour": "8"},
    ),
    # Only the course's teacher and its students may mute it; for anyone else it doesn't exist.
    "notifications:mute_course": Entry(
        get=signed_in(NOT_ALLOWED),
        post={
            ANON: TO_LOGIN,
            STUDENT: TO_PREFERENCES,
            OTHER: NOT_FOUND,
            OWNER: TO_PREFERENCES,
            STAFF: NOT_FOUND,
        },
        data={"muted": "1"},
        url=lambda ctx: reverse(
            "notifications:mute_course", args=[ctx.objects["notifications_course"].pk]
        ),
    ),
    "notifications:unsubscribe": Entry(
        get=everyone(OK),
        post=everyone(OK),
        url=lambda ctx: reverse(
            "notifications:unsubscribe",
            args=[delivery.unsubscribe_token(ctx.people["bob"])],
        ),
    ),
}
