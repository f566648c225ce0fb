"""From a campaign link to a student the teacher knows: analytics, sign-up, welcome questions, CRM.

A visitor opens a course page from a newsletter link (utm parameters), signs
up, answers the welcome questions and finds the course on their dashboard, and
enrols. Their teacher then finds them among their students with that source,
tags them, writes a note, and sees the visit go through the course's funnel.
"""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import User
from analytics import services as analytics
from analytics.models import CourseDay
from courses.models import Enrollment, Visibility
from courses.tests.factories import CourseFactory
from crm.models import Contact
from tests.base import PASSWORD
from tests.browser.kit import SIGN_UP_BUTTON, Browsing, fill_signup_form
from tests.browser.test_signup import confirmation_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_campaign_visitor_becomes_a_student_their_teacher_knows(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    mailoutbox: list[EmailMessage],
    new_context: Callable[..., BrowserContext],
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    course = CourseFactory.create(
        teacher=alice,
        slug="spanish",
        title="Spanish for travellers",
        visibility=Visibility.PUBLIC,
        starts_on=(timezone.now() + timedelta(days=10)).date(),
    )
    page = watched_page

    # A visitor arrives from the newsletter.
    page.goto(browsing.url("/c/spanish/?utm_source=newsletter&utm_campaign=spring"))
    expect(page.get_by_role("heading", name="Spanish for travellers", level=1)).to_be_visible()
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["cls_attrib"]["httpOnly"]
    assert cookies["cls_utm"]["httpOnly"]  # signed: what it holds is checked on the way back
    browsing.snap(page, "01-storefront-from-newsletter")

    # They sign up, confirm their address and are welcomed with a few questions.
    page.goto(browsing.url("/accounts/signup/"))
    fill_signup_form(
        page,
        first_name="Vera",
        last_name="Visitor",
        email="vera@example.org",
        password=PASSWORD,
        role="student",
        country="ES",
    )
    page.get_by_role("button", name=SIGN_UP_BUTTON).click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    page.goto(browsing.url(confirmation_path(mailoutbox[-1])))
    page.get_by_role("button", name=re.compile(r"confirm", re.IGNORECASE)).click()
    expect(page).to_have_url(re.compile(r"/welcome/$"))
    page.get_by_role("radio", name="I'm looking for a course").check()
    page.get_by_role("radio", name="Simply, with everyday examples").check()
    browsing.snap(page, "02-welcome-questions")
    page.get_by_role("button", name="Save").click()

    # Looking for a course, she is shown the courses open now, and enrols.
    find = page.get_by_role("region", name="Find a course")
    expect(find).to_be_visible()
    browsing.snap(page, "03-dashboard-find-a-course")
    find.get_by_role("link", name="Spanish for travellers").click()
    page.get_by_role("button", name="Enrol").first.click()
    vera = User.objects.get(email="vera@example.org")
    assert Enrollment.objects.filter(course=course, student=vera).exists()

    # What the storefront counted reaches the daily figures (the flush job's work).
    analytics.flush_counters()
    day = CourseDay.objects.filter(course=course, utm_source="newsletter")
    assert sum(row.views for row in day) >= 1
    assert sum(row.registrations for row in day) == 1
    assert sum(row.enrolments for row in day) == 1

    # Her teacher finds her among their students, with where she came from.
    teacher = browsing.watch(new_context().new_page())
    log_in(teacher, alice.email, PASSWORD, "04-teacher-login")
    teacher.get_by_role("banner").get_by_role("link", name="Students").click()
    row = teacher.get_by_role("row").filter(has_text="Vera Visitor")
    expect(row).to_contain_text("newsletter")
    browsing.snap(teacher, "05-crm-list")
    row.get_by_role("link", name="Vera Visitor").click()
    teacher.get_by_label("Add a tag").fill("spring-2027")
    teacher.get_by_role("button", name="Add", exact=True).click()
    teacher.get_by_label("New note").fill("Travelling to Madrid in May; wants phrases for trains.")
    teacher.get_by_role("button", name="Keep note").click()
    expect(teacher.get_by_text("Travelling to Madrid in May")).to_be_visible()
    expect(teacher.get_by_role("list", name="Tags")).to_contain_text("spring-2027")
    browsing.snap(teacher, "06-crm-person")
    contact = Contact.objects.get(teacher=alice, user=vera)
    assert list(contact.tags.values_list("name", flat=True)) == ["spring-2027"]
    assert contact.notes.count() == 1

    # The visit shows in the course's funnel.
    teacher.goto(browsing.url("/teach/courses/spanish/traffic/"))
    funnel = teacher.get_by_role("region", name="From visit to enrolment")
    expect(funnel).to_be_visible()
    expect(teacher.get_by_role("region", name="Campaign sources")).to_contain_text("newsletter")
    browsing.snap(teacher, "07-traffic")
