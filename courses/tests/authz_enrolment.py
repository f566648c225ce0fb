"""Authorization-matrix entries for enrolling, the roster, invitations and course pages.

alice teaches "authz-enrolment-course" (free, 5 seats, one published item) with
bob enrolled, and "authz-enrolment-full" (1 seat, taken by someone else) with
bob on its waitlist. An invited account that has not chosen a password yet
has a fresh invitation link.
"""

from django.urls import reverse

from accounts.models import User
from courses.models import Enrollment, WaitlistEntry
from courses.services import invitations
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.authz import (
    ANON,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    OTHER,
    OWNER,
    PERSONS,
    STAFF,
    STUDENT,
    TO_LOGIN,
    Context,
    Entry,
    Expected,
    Outcome,
    signed_in,
)
from tests.base import StudentFactory

SLUG = "authz-enrolment-course"
FULL = "authz-enrolment-full"
COURSE_PAGE = Outcome(302, f"/courses/{SLUG}/")
ENROL_PAGE = Outcome(302, f"/c/{SLUG}/enrol/")
FULL_STOREFRONT = Outcome(302, f"/c/{FULL}/")
TO_ROSTER = Outcome(302, f"/teach/courses/{SLUG}/students/")


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG, capacity=5)
    Enrollment.objects.create(course=course, student=bob)
    ctx.objects["enrolment_item"] = CourseItemFactory.create(course=course)
    full = CourseFactory.create(teacher=alice, slug=FULL, capacity=1)
    Enrollment.objects.create(course=full, student=StudentFactory.create())
    WaitlistEntry.objects.create(course=full, student=bob)
    invited = User.objects.create_user(email="invited-authz@example.org", first_name="Ivy")
    ctx.objects["enrolment_invite_url"] = invitations.invitation_path(invited, course)
    ctx.objects["enrolment_invite_form_url"] = reverse(
        "courses:accept_invite",
        kwargs={"uidb36": ctx.objects["enrolment_invite_url"].split("/")[2], "key": "set-password"},
    )


def _only(student: Expected = NOT_FOUND, owner: Expected = NOT_FOUND) -> dict[str, Expected]:
    """Everyone signed in gets 404 unless named; visitors go to log in."""
    return {ANON: TO_LOGIN, STUDENT: student, OTHER: NOT_FOUND, OWNER: owner, STAFF: NOT_FOUND}


def _to_invite_form(ctx: Context) -> Outcome:
    return Outcome(302, ctx.objects["enrolment_invite_form_url"])


_GUEST = {"first_name": "Gina", "last_name": "Guest", "email": "gina-authz@example.org"}

ENTRIES: dict[str, Entry] = {
    # Behind the storefront's enrol box
    "courses:enroll": Entry(
        get={ANON: TO_LOGIN, STUDENT: COURSE_PAGE, OTHER: OK, OWNER: OK, STAFF: OK},
        post={
            ANON: TO_LOGIN,
            STUDENT: COURSE_PAGE,
            OTHER: COURSE_PAGE,
            OWNER: Outcome(302, f"/c/{SLUG}/"),
            STAFF: COURSE_PAGE,
        },
        url=lambda ctx: reverse("courses:enroll", args=[SLUG]),
    ),
    "courses:register": Entry(
        get=signed_in(ENROL_PAGE, anon=OK),
        post=signed_in(ENROL_PAGE, anon=OK),
        data=_GUEST,
        url=lambda ctx: reverse("courses:register", args=[SLUG]),
    ),
    "courses:join_waitlist": Entry(
        get=signed_in(NOT_ALLOWED),
        post=signed_in(FULL_STOREFRONT),
        url=lambda ctx: reverse("courses:join_waitlist", args=[FULL]),
    ),
    "courses:leave_waitlist": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_only(student=FULL_STOREFRONT),
        url=lambda ctx: reverse("courses:leave_waitlist", args=[FULL]),
    ),
    # Following an invitation signs out whoever was signed in, so everyone gets the form.
    "courses:accept_invite": Entry(
        get=dict.fromkeys(PERSONS, _to_invite_form),
        url=lambda ctx: ctx.objects["enrolment_invite_url"],
    ),
    # The teacher's roster
    "courses:roster": Entry(
        get=_only(owner=OK), url=lambda ctx: reverse("courses:roster", args=[SLUG])
    ),
    "courses:add_student": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_only(owner=TO_ROSTER),
        data={"email": "new-authz@example.org"},
        url=lambda ctx: reverse("courses:add_student", args=[SLUG]),
    ),
    "courses:remove_student": Entry(
        get=_only(owner=OK),
        post=_only(owner=TO_ROSTER),
        url=lambda ctx: reverse("courses:remove_student", args=[SLUG, ctx.people["bob"].pk]),
    ),
    # The student's side
    "courses:my_courses": Entry(get=signed_in()),
    "courses:course": Entry(
        get=_only(student=OK, owner=OK), url=lambda ctx: reverse("courses:course", args=[SLUG])
    ),
    "courses:item": Entry(
        get=_only(student=OK, owner=OK),
        url=lambda ctx: reverse("courses:item", args=[SLUG, ctx.objects["enrolment_item"].pk]),
    ),
    "courses:leave": Entry(
        get=_only(student=OK),
        post=_only(student=Outcome(302, "courses:my_courses")),
        url=lambda ctx: reverse("courses:leave", args=[SLUG]),
    ),
}
