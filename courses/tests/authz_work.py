"""Authorization-matrix entries for downloads, submissions, grading and gradebooks.

alice teaches "authz-work-course" (draft) with a published file item, a
published assignment and bob's submission to it; bob is enrolled. Downloads and
work pages answer 404 to anyone who may not see them, as if they didn't exist.
"""

from collections.abc import Callable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from courses.models import Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory
from files.models import StoredFile
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

SLUG = "authz-work-course"
# One small fixed blob, written once, so the matrix never litters storage with copies.
BLOB_KEY = "uploads/authz/authz-work.txt"


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG, draft=True)
    Enrollment.objects.create(course=course, student=bob)
    if not default_storage.exists(BLOB_KEY):
        default_storage.save(BLOB_KEY, ContentFile(b"Reading list\n"))
    stored = StoredFile.objects.create(
        course=course,
        uploaded_by=alice,
        blob=BLOB_KEY,
        original_name="reading.txt",
        content_type="text/plain; charset=utf-8",
        size=13,
    )
    CourseItemFactory.create(course=course, file=True, file_id=stored.pk)
    assignment = CourseItemFactory.create(course=course, assignment=True)
    ctx.objects["work_file"] = stored
    ctx.objects["work_assignment"] = assignment
    ctx.objects["work_submission"] = Submission.objects.create(
        item=assignment, student=bob, text="My answer"
    )


def _alice_only(owner: Expected = OK) -> dict[str, Expected]:
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: owner, STAFF: NOT_FOUND}


def _bob_only(student: Expected = OK, owner: Expected = NOT_FOUND) -> dict[str, Expected]:
    return {ANON: TO_LOGIN, STUDENT: student, OTHER: NOT_FOUND, OWNER: owner, STAFF: NOT_FOUND}


def _course_url(name: str) -> Callable[[Context], str]:
    return lambda ctx: reverse(f"courses:{name}", args=[SLUG])


def _assignment_page(ctx: Context) -> Outcome:
    return Outcome(302, reverse("courses:item", args=[SLUG, ctx.objects["work_assignment"].pk]))


ENTRIES: dict[str, Entry] = {
    "files:download": Entry(
        get={ANON: TO_LOGIN, STUDENT: OK, OTHER: NOT_FOUND, OWNER: OK, STAFF: NOT_FOUND},
        url=lambda ctx: reverse("files:download", args=[ctx.objects["work_file"].pk]),
    ),
    "courses:submit": Entry(
        get=_bob_only(_assignment_page),
        post=_bob_only(_assignment_page),
        data={"text": "My answer"},
        url=lambda ctx: reverse("courses:submit", args=[SLUG, ctx.objects["work_assignment"].pk]),
    ),
    "courses:my_grades": Entry(
        get=_bob_only(OK, owner=Outcome(302, f"/teach/courses/{SLUG}/gradebook/")),
        url=_course_url("my_grades"),
    ),
    "courses:grading": Entry(get=_alice_only(), url=_course_url("grading")),
    "courses:gradebook": Entry(get=_alice_only(), url=_course_url("gradebook")),
    "courses:gradebook_csv": Entry(get=_alice_only(), url=_course_url("gradebook_csv")),
    "courses:grade": Entry(
        get=_alice_only(),
        post=_alice_only(Outcome(302, f"/teach/courses/{SLUG}/grading/")),
        data={"points": "8", "feedback": "Good", "action": "return"},
        url=lambda ctx: reverse("courses:grade", args=[ctx.objects["work_submission"].pk]),
    ),
}
