"""A visitor registers from a course's shared page: with JavaScript, and without it.

The page is the same for every visitor and holds no CSRF token: with JavaScript
the form fetches this browser's token as it is sent; without it, the page links
to a registration page of its own that holds the form and its token.
"""

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accounts.models import User
from courses.models import Course, Enrollment
from courses.tests.factories import CourseFactory
from tests.browser.kit import Browsing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REGISTER = re.compile(r"^\s*Register for free\s*$")


@pytest.fixture
def course(alice: User) -> Course:
    return CourseFactory.create(
        teacher=alice, slug="open-watercolour", title="Open Watercolour", capacity=12
    )


def fill_in(page: Page, first: str, last: str, email: str) -> None:
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email").fill(email)


def enrolled(course: Course, email: str) -> bool:
    return Enrollment.objects.filter(course=course, student__email=email).exists()


def test_it_fetches_a_token_as_the_form_is_sent(
    watched_page: Page, browsing: Browsing, context: BrowserContext, course: Course
) -> None:
    page = watched_page
    page.goto(browsing.url("/c/open-watercolour/"))  # built and kept in the cache
    response = page.reload()
    assert response is not None
    assert "csrfmiddlewaretoken" not in response.text()
    assert not [c for c in context.cookies() if c["name"] == "csrftoken"]
    browsing.snap(page, "01-shared-page")

    fill_in(page, "Gina", "Guest", "gina@example.org")
    with page.expect_response(re.compile(r"/csrf-token/$")) as fetched:
        page.get_by_role("button", name=REGISTER).click()
    assert fetched.value.headers["cache-control"].find("no-store") >= 0
    expect(page.get_by_text("Check your inbox")).to_be_visible()
    browsing.snap(page, "02-registered")
    assert enrolled(course, "gina@example.org")


def test_it_switches_the_colour_scheme_on_the_shared_page(
    watched_page: Page, browsing: Browsing, context: BrowserContext, course: Course
) -> None:
    page = watched_page
    page.goto(browsing.url("/c/open-watercolour/"))
    with page.expect_response(re.compile(r"/preferences/color-scheme/")) as saved:
        page.get_by_role("banner").get_by_role("button", name="Dark", exact=True).click()
    assert saved.value.status == 204
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert cookies.get("color_scheme") == "dark"
    browsing.snap(page, "01-dark")


def test_it_offers_a_registration_page_without_javascript(
    browser: Browser, browser_context_args: dict[str, Any], browsing: Browsing, course: Course
) -> None:
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        page = browsing.watch(context.new_page())
        page.goto(browsing.url("/c/open-watercolour/"))
        expect(page.get_by_label("Email")).to_be_hidden()
        browsing.snap(page, "01-shared-page-without-javascript")

        page.get_by_role("link", name=REGISTER).click()
        expect(page).to_have_url(re.compile(r"/c/open-watercolour/register/$"))
        browsing.snap(page, "02-registration-page")
        fill_in(page, "Hugo", "Guest", "hugo@example.org")
        page.get_by_role("button", name=REGISTER).click()
        expect(page.get_by_text("Check your inbox")).to_be_visible()
        browsing.snap(page, "03-registered")
    finally:
        context.close()
    assert enrolled(course, "hugo@example.org")
