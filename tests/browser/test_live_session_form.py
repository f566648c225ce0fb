"""A teacher chooses where a session takes place: live on Lectern, or an external link."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from courses.models import CourseItem, Delivery
from courses.tests.factories import CourseFactory
from live.tests import kit as live_kit
from tests.base import PASSWORD
from tests.browser.kit import Browsing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_session(page: Page) -> None:
    page.get_by_label("Title").fill("Week 1: washes")
    page.get_by_label("Date").fill("2027-03-10")
    page.get_by_label("Start time").fill("18:00")


def test_it_hides_the_meeting_link_for_a_live_session(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    settings: Any,
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    settings.LIVEKIT_URL = live_kit.URL
    settings.LIVEKIT_API_KEY = live_kit.KEY
    settings.LIVEKIT_API_SECRET = live_kit.SECRET
    course = CourseFactory.create(teacher=alice, slug="paint")
    page = watched_page
    log_in(page, alice.email, PASSWORD, "01-login")

    page.goto(browsing.url(f"/teach/courses/{course.slug}/items/new/session/"))
    where = page.get_by_role("group", name="Where it takes place")
    expect(where.get_by_role("radio", name="External link")).to_be_checked()
    expect(page.get_by_label("Meeting link")).to_be_visible()
    browsing.snap(page, "02-external-by-default")

    where.get_by_role("radio", name="Live on Lectern").check()
    expect(page.get_by_label("Meeting link")).to_be_hidden()
    _fill_session(page)
    browsing.snap(page, "03-live-chosen")
    page.get_by_role("button", name="Add session").click()
    expect(page).to_have_url(re.compile(r"/teach/courses/paint/#item-\d+$"))

    item = CourseItem.objects.get()
    assert item.delivery == Delivery.LIVE
    page.goto(browsing.url(f"/courses/{course.slug}/items/{item.pk}/"))
    expect(page.get_by_role("link", name="Join live class")).to_be_visible()
    browsing.snap(page, "04-item-page")


def test_it_explains_why_live_is_off_without_livekit(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    settings: Any,
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    settings.LIVEKIT_URL = ""
    course = CourseFactory.create(teacher=alice, slug="paint")
    page = watched_page
    log_in(page, alice.email, PASSWORD, "01-login")

    page.goto(browsing.url(f"/teach/courses/{course.slug}/items/new/session/"))
    where = page.get_by_role("group", name="Where it takes place")
    expect(where.get_by_role("radio", name="Live on Lectern")).to_be_disabled()
    expect(where).to_contain_text("the operator adds a LiveKit server in the settings")
    expect(page.get_by_label("Meeting link")).to_be_visible()
    browsing.snap(page, "02-live-unavailable")
