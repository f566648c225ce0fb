"""Authorization-matrix entries for the course assistant, "Explain this" and the consent shortcut.

alice teaches "authz-ai-assistant" with the assistant switched on and one
published material; bob is enrolled. AI is not configured in the matrix, so
the course's members get the page saying so (and a 400 when they post), and
the consent shortcut answers 400; outsiders get a 404 as for the course itself.
"""

from django.urls import reverse

from courses.models import Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
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

SLUG = "authz-ai-assistant"
NOT_CONFIGURED = Outcome(400)


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG, ai_assistant=True)
    Enrollment.objects.create(course=course, student=bob)
    ctx.objects["ai_assistant_item"] = CourseItemFactory.create(course=course, material=True)


def _members(outcome: Outcome) -> dict[str, Outcome]:
    """The course's student and teacher get `outcome`; other people a 404, visitors log in."""
    return {ANON: TO_LOGIN, STUDENT: outcome, OTHER: NOT_FOUND, OWNER: outcome, STAFF: NOT_FOUND}


ENTRIES: dict[str, Entry] = {
    "ai:assistant": Entry(
        get=_members(OK),
        post=_members(NOT_CONFIGURED),
        url=lambda ctx: reverse("ai:assistant", args=[SLUG]),
        data={"question": "What is this course about?"},
    ),
    "ai:explain_item": Entry(
        get=_members(OK),
        post=_members(NOT_CONFIGURED),
        url=lambda ctx: reverse(
            "ai:explain_item", args=[SLUG, ctx.objects["ai_assistant_item"].pk]
        ),
    ),
    "ai:consent": Entry(
        get={**everyone(NOT_ALLOWED), ANON: TO_LOGIN},
        post=signed_in(NOT_CONFIGURED),
        data={"next": "/dashboard/"},
    ),
}
