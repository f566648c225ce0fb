"""Authorization-matrix entries for the Traffic pages.

alice teaches "authz-traffic"; its Traffic page is hers only. Every teacher has
an overall Traffic page about their own pages, so carol gets one too.
"""

from django.urls import reverse

from courses.tests.factories import CourseFactory
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
    signed_in,
)

SLUG = "authz-traffic"


def build(ctx: Context) -> None:
    CourseFactory.create(teacher=ctx.people["alice"], slug=SLUG)


TEACHERS = {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: OK, OWNER: OK, STAFF: NOT_FOUND}
ALICE = {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: OK, STAFF: NOT_FOUND}

ENTRIES: dict[str, Entry] = {
    "analytics:traffic": Entry(get=TEACHERS, post=signed_in(NOT_ALLOWED)),
    "analytics:course_traffic": Entry(
        get=ALICE,
        post=signed_in(NOT_ALLOWED),
        url=lambda ctx: reverse("analytics:course_traffic", args=[SLUG]),
    ),
}
