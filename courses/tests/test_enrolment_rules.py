"""The enrolment rules, checked through every door: the page, enrol, register and the waitlist.

Every kind of course (draft, unlisted, public or archived; teacher active or
switched off; free or paid; full or not) meets both kinds of viewer (bob,
signed in; a visitor). The expected answers are written out from the rules
once, in `expected`, and each entry point must give exactly that answer.
"""

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from courses import enrolment_policy
from courses.models import Course, Enrollment, WaitlistEntry
from courses.tests.factories import CourseFactory, EnrollmentFactory
from tests.base import StudentFactory

CASES = list(
    itertools.product(
        ["draft", "unlisted", "public", "archived"],
        ["active", "deactivated"],
        ["free", "paid"],
        ["full", "seats"],
        ["signed_in", "visitor"],
    )
)
GUEST = {"first_name": "Gina", "last_name": "Guest", "email": "gina@example.org"}


def expected(visibility: str, teacher: str, price: str, seats: str, viewer: str) -> dict[str, str]:
    """Return what each entry point must answer, straight from the rules."""
    signed_in = viewer == "signed_in"
    # Visitors are sent to log in before anything is decided on the signed-in doors.
    login_or = (lambda answer: answer) if signed_in else (lambda answer: "login")
    if visibility not in ("unlisted", "public") or teacher != "active":
        return {
            "page": "404",
            "enrol": login_or("404"),
            "waitlist": login_or("404"),
            "register": "404",
        }
    # Signed-in people who open the registration form are sent to one-click enrolment.
    register = "enrol_page" if signed_in else None
    if price == "paid":
        return {
            "page": "closed",
            "enrol": login_or("refused"),
            "waitlist": login_or("refused"),
            "register": register or "refused",
        }
    if seats == "full":
        return {
            "page": "join_waitlist" if signed_in else "log_in_to_wait",
            "enrol": login_or("refused"),
            "waitlist": login_or("waiting"),
            "register": register or "refused",
        }
    return {
        "page": "enrol" if signed_in else "register",
        "enrol": login_or("enrolled"),
        "waitlist": login_or("enrolled"),
        "register": register or "held",
    }


def make_course(alice: User, visibility: str, teacher: str, price: str, seats: str) -> Course:
    course = CourseFactory.create(
        teacher=alice,
        slug="rules",
        visibility="public" if visibility == "archived" else visibility,
        archived=visibility == "archived",
        paid=price == "paid",
        capacity=1 if seats == "full" else 5,
    )
    if seats == "full":
        EnrollmentFactory.create(course=course, student=StudentFactory.create())
    if teacher == "deactivated":
        User.objects.filter(pk=alice.pk).update(is_active=False)
    return course


def outcome(response, course: Course, student: User | None) -> str:
    """Name what a request did: its refusal, or the state it left the person in."""
    if response.status_code == 404:
        return "404"
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith(reverse("account_login")):
        return "login"
    if response.status_code == 302 and location == reverse("courses:enroll", args=[course.slug]):
        return "enrol_page"
    if student is None:
        student = User.objects.filter(email=GUEST["email"]).first()
    row = Enrollment.objects.filter(course=course, student=student).first() if student else None
    if row is not None and row.status in ("active", "held"):
        return {"active": "enrolled", "held": "held"}[row.status]
    if WaitlistEntry.objects.filter(course=course, student=student).exists():
        return "waiting"
    assert response.status_code in (302, 400), response.status_code
    return "refused"


def page_answer(response) -> str:
    if response.status_code == 404:
        return "404"
    answer = response.context["answer"]
    # The page shows the policy's own seat count, computed once.
    assert response.context["seats_left"] == answer.seats_left
    return answer.offer.value


@pytest.mark.parametrize(("visibility", "teacher", "price", "seats", "viewer"), CASES)
def test_it_gives_the_same_answer_through_every_entry_point(
    alice: User,
    bob: User,
    client_for,
    visibility: str,
    teacher: str,
    price: str,
    seats: str,
    viewer: str,
) -> None:
    course = make_course(alice, visibility, teacher, price, seats)
    student = bob if viewer == "signed_in" else None
    want = expected(visibility, teacher, price, seats, viewer)

    def browser() -> Client:
        return client_for(student)

    slug = course.slug
    got = {"page": page_answer(browser().get(reverse("storefront:course", args=[slug])))}
    # Each door is tried on a fresh copy of the situation, so one can't change the next.
    for door, url, data in [
        ("enrol", reverse("courses:enroll", args=[slug]), {}),
        ("waitlist", reverse("courses:join_waitlist", args=[slug]), {}),
        ("register", reverse("courses:register", args=[slug]), GUEST),
    ]:
        Enrollment.objects.filter(course=course).exclude(status="active").delete()
        people = [bob.email, GUEST["email"]]
        Enrollment.objects.filter(course=course, student__email__in=people).delete()
        WaitlistEntry.objects.filter(course=course).delete()
        got[door] = outcome(browser().post(url, data), course, student)
    assert got == want


@pytest.mark.parametrize(("visibility", "teacher", "price", "seats", "viewer"), CASES)
def test_the_policy_answers_what_the_doors_do(
    alice: User,
    bob: User,
    visibility: str,
    teacher: str,
    price: str,
    seats: str,
    viewer: str,
) -> None:
    course = make_course(alice, visibility, teacher, price, seats)
    want = expected(visibility, teacher, price, seats, viewer)
    user = bob if viewer == "signed_in" else None
    viewer_facts = enrolment_policy.Viewer(signed_in=True) if user else enrolment_policy.VISITOR
    facts = enrolment_policy.read_facts(course.slug)
    assert facts is not None
    answer = enrolment_policy.decide(facts, viewer_facts)
    assert answer.reachable == (want["page"] != "404")
    assert Course.objects.reachable().filter(pk=course.pk).exists() == answer.public_reachable
    if answer.reachable:
        assert answer.offer.value == want["page"]
        assert answer.can_take_seat == (want["page"] in ("enrol", "register"))
