"""Authorization-matrix entries for "Explain this page" and the teacher's AI usage page.

In the matrix AI is not configured: the policy summaries answer everyone
that there are none on this server (a 404 page saying so). The usage page is
alice's, for her course; anyone else is told it doesn't exist, and it still
shows her past usage while AI is off.

A logged request and a stored summary give the admin's per-object pages
something to show.
"""

from django.urls import reverse

from ai import services
from ai.models import AiRequest, PolicySummary
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
    everyone,
    signed_in,
)

SLUG = "ai-usage-course"


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG)
    services.record(
        action=AiRequest.Action.ASSISTANT,
        outcome=AiRequest.Outcome.REFUSED_CONSENT,
        user=bob,
        teacher=alice,
        course=course,
    )
    PolicySummary.objects.create(page="terms", sha256="0" * 64, text="In short.", model="small")


ENTRIES: dict[str, Entry] = {
    "ai:explain_page": Entry(
        get=everyone(NOT_FOUND),
        post=everyone(NOT_FOUND),
        url=lambda ctx: reverse("ai:explain_page", args=["privacy"]),
    ),
    "ai:usage": Entry(
        get={ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: OK, STAFF: NOT_FOUND},
        post=signed_in(NOT_ALLOWED),
        url=lambda ctx: reverse("ai:usage", args=[SLUG]),
    ),
}
