"""A plan's limit of active students in a browser: warned, upgraded; blocked, yet fair.

alice sells a course on the Free plan (10 active students). Her eighth paying student
brings the warning: a banner on her dashboard, the usage bar on Plan & billing at 8 of
10. She upgrades to Pro on the stand-in's Checkout page and the warning is gone.

carol stays on Free with eleven paying students; grace runs out and new paid enrolments
in her courses pause. dave, signed in, finds her course's page saying so, with nothing to
buy; bob, one of her students, still opens the course and its material. carol's
dashboard tells her why and how to open sales again.

Payments are recorded through billing's own services (`caps.purchase_changed` after each
paid purchase, as the webhook processing does) so that each step is what a teacher with
real sales would see; Stripe is replaced at its HTTP edge by `billing/tests/fake_stripe.py`.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import User
from billing.models import PlanCapState, Purchase
from billing.services import caps
from billing.tests.fake_stripe import FakeStripe
from billing.tests.kit import seller
from courses.models import Course, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import PASSWORD, StudentFactory
from tests.browser.kit import Browsing, snap_everywhere, stripe_sends_the_webhooks

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("plans_synced"),
]

LogIn = Callable[[Page, str, str, str], None]
PLAN_URL = re.compile(r"/billing/plan/$")
State = PlanCapState.State


def paid_course(teacher: User, title: str, slug: str) -> Course:
    seller(teacher)
    course = CourseFactory.create(
        teacher=teacher, title=title, slug=slug, price_amount=8000, currency="EUR", capacity=40
    )
    CourseItemFactory.create(course=course, title="Week 1: materials and first sketches")
    return course


def sell(course: Course, students: list[User], *, paid_at: Any = None) -> None:
    """Record a paid purchase and an enrolment for each student, as a processed payment does."""
    for student in students:
        purchase = Purchase.objects.create(
            student=student,
            teacher=course.teacher,
            course=course,
            course_title=course.title,
            connect_account_id=f"acct_test_teacher{course.teacher_id}",
            gross_amount=course.price_amount,
            amount=course.price_amount,
            currency=course.currency,
            application_fee_amount=400,
            status=Purchase.Status.PAID,
            paid_at=paid_at or timezone.now(),
            checkout_session_id=f"cs_test_{course.pk}_{student.pk}",
            payment_intent_id=f"pi_test_{course.pk}_{student.pk}",
        )
        Enrollment.objects.create(course=course, student=student)
        caps.purchase_changed(purchase)


def test_a_teacher_is_warned_and_upgrades_and_a_block_never_touches_enrolled_students(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    bob: User,
    carol: User,
    dave: User,
    stripe: FakeStripe,
    new_context: Callable[..., BrowserContext],
    log_in: LogIn,
) -> None:
    alice_course = paid_course(alice, "Botanical Drawing in Ink", "botanical-drawing")
    sell(alice_course, StudentFactory.create_batch(8))
    assert PlanCapState.objects.get(teacher=alice).state == State.WARNING

    page = watched_page
    page.route(f"{stripe.url}/favicon.ico", lambda route: route.fulfill(status=204))
    log_in(page, alice.email, PASSWORD, "01-alice-login")
    warned_then_upgrades(page, browsing, stripe)

    carol_course = paid_course(carol, "Watercolour Skies", "watercolour-skies")
    sell(carol_course, [bob, *StudentFactory.create_batch(10)])
    caps.evaluate(carol.pk, now=timezone.now() + caps.grace_period() + timedelta(seconds=1))
    assert PlanCapState.objects.get(teacher=carol).state == State.HARD_BLOCK

    dave_page = browsing.watch(new_context().new_page())
    log_in(dave_page, dave.email, PASSWORD, "10-dave-login")
    refused_a_seat(dave_page, browsing)
    assert not Enrollment.objects.filter(course=carol_course, student=dave).exists()

    bob_page = browsing.watch(new_context().new_page())
    log_in(bob_page, bob.email, PASSWORD, "20-bob-login")
    still_studies(bob_page, browsing)

    carol_page = browsing.watch(new_context().new_page())
    log_in(carol_page, carol.email, PASSWORD, "30-carol-login")
    notice = carol_page.get_by_role("status").filter(has_text="New paid enrolments")
    expect(notice).to_contain_text("You have 11 active students; your plan includes 10.")
    expect(notice.get_by_role("link", name="Upgrade your plan")).to_be_visible()
    snap_everywhere(carol_page, browsing, "31-carol-blocked-dashboard")


def warned_then_upgrades(page: Page, browsing: Browsing, stripe: FakeStripe) -> None:
    notice = page.get_by_role("status").filter(has_text="close to your plan's limit")
    expect(notice).to_contain_text("You have 8 active students; your plan includes 10.")
    snap_everywhere(page, browsing, "02-alice-warned")

    notice.get_by_role("link", name="See your plan").click()
    expect(page).to_have_url(PLAN_URL)
    usage = page.get_by_role("region", name="Usage")
    students = usage.get_by_role("meter", name="Active students")
    expect(students).to_have_attribute("value", "8")
    expect(students).to_have_attribute("max", "10")
    snap_everywhere(page, browsing, "03-alice-usage")

    page.get_by_role("button", name="Choose Pro").click()
    expect(page.get_by_role("heading", name="Test checkout")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(PLAN_URL)
    expect(page.get_by_role("heading", name="Your plan: Pro")).to_be_visible()
    stripe_sends_the_webhooks(browsing, stripe)
    page.reload()
    expect(usage.get_by_role("meter", name="Active students")).to_have_attribute("max", "100")
    browsing.snap(page, "04-alice-on-pro")

    page.goto(browsing.url("/dashboard/"))
    expect(page.get_by_role("status").filter(has_text="your plan's limit")).to_have_count(0)
    browsing.snap(page, "05-alice-dashboard-calm")


def refused_a_seat(page: Page, browsing: Browsing) -> None:
    page.goto(browsing.url("/c/watercolour-skies/"))
    expect(page.get_by_role("heading", name="Watercolour Skies", level=1)).to_be_visible()
    expect(page.get_by_text("isn't taking new paid enrolments right now").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Buy|Continue to payment"))).to_have_count(0)
    snap_everywhere(page, browsing, "11-dave-refused")


def still_studies(page: Page, browsing: Browsing) -> None:
    page.goto(browsing.url("/courses/watercolour-skies/"))
    expect(page.get_by_role("heading", name="Watercolour Skies", level=1)).to_be_visible()
    page.get_by_role("link", name="Week 1: materials and first sketches").first.click()
    expect(
        page.get_by_role("heading", name="Week 1: materials and first sketches", level=1)
    ).to_be_visible()
    browsing.snap(page, "21-bob-still-studies")
