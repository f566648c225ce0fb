"""Authorization-matrix entries for the teacher's course pages.

alice teaches "authz-teaching-course" (one announcement) and
"authz-teaching-empty" (no items). bob is enrolled in the first. Another
teacher, a student or staff get the same 404 as for a course that doesn't exist.
"""

from collections.abc import Callable

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
    Expected,
    Outcome,
    signed_in,
)

SLUG = "authz-teaching-course"
EMPTY = "authz-teaching-empty"
MANAGE = f"/teach/courses/{SLUG}/"


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG, draft=True)
    Enrollment.objects.create(course=course, student=bob)
    ctx.objects["teaching_course"] = course
    ctx.objects["teaching_item"] = CourseItemFactory.create(course=course, announcement=True)
    CourseFactory.create(teacher=alice, slug=EMPTY, draft=True)


def _alice_only(owner: Expected = OK) -> dict[str, Expected]:
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: owner, STAFF: NOT_FOUND}


def _teachers(outcome: Expected = OK) -> dict[str, Expected]:
    """Pages for any teacher: alice and carol; bob and staff don't teach."""
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: outcome, OWNER: outcome, STAFF: NOT_FOUND}


def _course_url(name: str, slug: str = SLUG) -> Callable[[Context], str]:
    return lambda ctx: reverse(f"courses:{name}", args=[slug])


def _item_url(name: str) -> Callable[[Context], str]:
    return lambda ctx: reverse(f"courses:{name}", args=[SLUG, ctx.objects["teaching_item"].pk])


ENTRIES: dict[str, Entry] = {
    "courses:teach_course_new": Entry(
        get=_teachers(), post=_teachers(Outcome(400)), data={"title": ""}
    ),
    "courses:teach_handle": Entry(get=_teachers()),
    "courses:teach_course": Entry(get=_alice_only(), url=_course_url("teach_course")),
    "courses:teach_course_edit": Entry(get=_alice_only(), url=_course_url("teach_course_edit")),
    "courses:teach_course_publish": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_alice_only(Outcome(302, MANAGE)),
        data={"visibility": "unlisted"},
        url=_course_url("teach_course_publish"),
    ),
    "courses:teach_course_unpublish": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_alice_only(Outcome(302, MANAGE)),
        url=_course_url("teach_course_unpublish"),
    ),
    "courses:teach_course_archive": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_alice_only(Outcome(302, MANAGE)),
        url=_course_url("teach_course_archive"),
    ),
    # The empty course's order is the empty list, so the owner's request succeeds.
    "courses:teach_items_reorder": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_alice_only(Outcome(302, f"/teach/courses/{EMPTY}/")),
        data={"order": ""},
        url=_course_url("teach_items_reorder", EMPTY),
    ),
    "courses:teach_item_new": Entry(
        get=_alice_only(),
        url=lambda ctx: reverse("courses:teach_item_new", args=[SLUG, "announcement"]),
    ),
    "courses:teach_item_edit": Entry(get=_alice_only(), url=_item_url("teach_item_edit")),
    "courses:teach_item_publish": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_alice_only(Outcome(302, MANAGE)),
        data={"published": "0"},
        url=_item_url("teach_item_publish"),
    ),
    "courses:teach_item_move": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_alice_only(Outcome(302, MANAGE)),
        data={"direction": "down"},
        url=_item_url("teach_item_move"),
    ),
    "courses:teach_item_delete": Entry(
        get=_alice_only(),
        post=_alice_only(Outcome(302, MANAGE)),
        url=_item_url("teach_item_delete"),
    ),
}
