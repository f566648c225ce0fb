"""Polling rests while the tab is hidden and catches up as soon as it is shown again."""

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from accounts.models import User
from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging import services
from tests.base import PASSWORD
from tests.browser.kit import Browsing

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time_on_sqlite"),
]

POLL = re.compile(r"/messages/\d+/poll/")
SET_VISIBILITY = """hidden => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (hidden ? "hidden" : "visible"),
  });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_it_stops_polling_in_a_hidden_tab_and_catches_up_when_shown(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    bob: User,
    settings: Any,
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    settings.MESSAGE_POLL_SECONDS = 1
    course = CourseFactory.create(teacher=alice, title="Watercolour Basics")
    EnrollmentFactory.create(course=course, student=bob)
    channel = services.get_or_create_channel(course=course)
    page = watched_page
    polls: list[float] = []

    def on_request(request: Request) -> None:
        if POLL.search(request.url):
            polls.append(time.monotonic())

    page.on("request", on_request)
    log_in(page, bob.email, PASSWORD, "01-login")
    page.goto(browsing.url(f"/messages/{channel.pk}/"))
    page.wait_for_timeout(2500)
    assert polls, "an open conversation polls for news"

    page.evaluate(SET_VISIBILITY, True)
    hidden_at = time.monotonic()
    services.post_message(
        conversation=channel, author=alice, body="Bring your own brushes", notify=False
    )
    page.wait_for_timeout(3500)
    assert not [at for at in polls if at > hidden_at + 0.2], "a hidden tab kept polling"
    expect(page.get_by_text("Bring your own brushes")).to_have_count(0)

    page.evaluate(SET_VISIBILITY, False)
    expect(page.get_by_text("Bring your own brushes")).to_be_visible(timeout=900)
    browsing.snap(page, "02-caught-up")
