"""Authorization-matrix entries for a teacher's AI drafts.

alice teaches "authz-ai-teacher" with an assignment bob handed work in for. The
draft pages are the course's teacher's only: everyone else is told they don't
exist. AI isn't configured in the matrix, so alice is told so: the page says it,
and asking for a draft answers 503 with nothing sent.
"""

from django.urls import reverse

from courses.models import Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.authz import (
    ANON,
    NOT_FOUND,
    OK,
    OTHER,
    OWNER,
    STAFF,
    STUDENT,
    TO_LOGIN,
    Context,
    Entry,
    Expected,
    Outcome,
)

SLUG = "authz-ai-teacher"
NOT_CONFIGURED = Outcome(503)


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG)
    Enrollment.objects.create(course=course, student=bob)
    assignment = CourseItemFactory.create(course=course, assignment=True)
    ctx.objects["ai_teacher_submission"] = Submission.objects.create(
        item=assignment, student=bob, text="My answer"
    )


def _alice_only(owner: Expected) -> dict[str, Expected]:
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: owner, STAFF: NOT_FOUND}


def _course_draft(name: str) -> Entry:
    return Entry(
        get=_alice_only(OK),
        post=_alice_only(NOT_CONFIGURED),
        url=lambda ctx: reverse(name, args=[SLUG]),
    )


ENTRIES: dict[str, Entry] = {
    "ai:draft_announcement": _course_draft("ai:draft_announcement"),
    "ai:draft_questions": _course_draft("ai:draft_questions"),
    "ai:draft_recap": _course_draft("ai:draft_recap"),
    "ai:draft_feedback": Entry(
        get=_alice_only(OK),
        post=_alice_only(NOT_CONFIGURED),
        url=lambda ctx: reverse(
            "ai:draft_feedback", args=[ctx.objects["ai_teacher_submission"].pk]
        ),
    ),
}
