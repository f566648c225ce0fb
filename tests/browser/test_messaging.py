"""Messaging in a real browser: live channel, reactions, a direct reply, badge and receipts.

alice posts in her course channel and bob, with the channel open, sees it arrive without
reloading; he reacts and alice sees the reaction; bob replies in a direct message and alice,
on her dashboard, sees the unread badge appear; she reads it and answers, and once bob has
read her answer she sees "Seen by"; bob turns read receipts off and she no longer does.
"""

import re
from collections.abc import Callable

import pytest
from django.test import override_settings
from playwright.sync_api import BrowserContext, Page, expect

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

LogIn = Callable[[Page, str, str, str], None]
ANNOUNCEMENT = "Class starts at 18:00 sharp tomorrow"
REPLY = "Thanks! Could I join ten minutes late?"
ANSWER = "Of course, see you then."


@override_settings(MESSAGE_POLL_SECONDS=1)
def test_messages_reactions_badge_and_receipts_arrive_without_reloading(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    bob: User,
    new_context: Callable[..., BrowserContext],
    log_in: LogIn,
) -> None:
    course = CourseFactory.create(teacher=alice, title="Watercolour", slug="watercolour")
    EnrollmentFactory.create(course=course, student=bob)
    channel = services.get_or_create_channel(course=course)

    teacher = watched_page
    log_in(teacher, alice.email, PASSWORD, "01-alice-login")
    student = browsing.watch(new_context().new_page())
    log_in(student, bob.email, PASSWORD, "02-bob-login")

    # bob has the channel open; alice posts; it appears for bob without a reload.
    student.goto(browsing.url(f"/messages/{channel.pk}/"))
    expect(student.get_by_role("heading", name="Watercolour", level=1)).to_be_visible()
    teacher.goto(browsing.url("/messages/"))
    teacher.get_by_role("link", name="Watercolour").click()
    browsing.snap(teacher, "03-alice-empty-channel")
    teacher.get_by_label("Message", exact=True).fill(ANNOUNCEMENT)
    teacher.get_by_role("button", name="Send").click()
    expect(teacher.locator(".msg-body", has_text=ANNOUNCEMENT)).to_be_visible()
    expect(teacher.get_by_label("Message", exact=True)).to_have_value("")
    expect(student.locator(".msg-body", has_text=ANNOUNCEMENT)).to_be_visible()
    browsing.snap(student, "04-bob-sees-it-live")

    # bob reacts; alice's page shows the reaction.
    message = student.locator(".msg", has_text=ANNOUNCEMENT)
    message.hover()
    message.get_by_title("Add a reaction").click()
    message.get_by_role("button", name="React with thumbs up").click()
    expect(student.get_by_role("button", name=re.compile(r"1\s+thumbs up"))).to_be_visible()
    expect(teacher.get_by_role("button", name=re.compile(r"1\s+thumbs up"))).to_be_visible()
    browsing.snap(teacher, "05-alice-sees-the-reaction")

    # bob writes to alice directly; alice, on her dashboard, sees the badge appear.
    teacher.goto(browsing.url("/dashboard/"))
    expect(teacher.locator("#nav-unread .nav-count")).to_have_count(0)
    student.goto(browsing.url(f"/messages/{channel.pk}/people/"))
    student.locator(".people-row", has_text="Alice Archer").get_by_role(
        "link", name="Message"
    ).click()
    expect(student.get_by_role("heading", name="Alice Archer", level=1)).to_be_visible()
    direct_url = student.url
    student.get_by_label("Message", exact=True).fill(REPLY)
    student.get_by_label("Message", exact=True).press("Enter")
    expect(student.locator(".msg-body", has_text=REPLY)).to_be_visible()
    expect(teacher.locator("#nav-unread .nav-count")).to_have_text("1", timeout=15_000)
    browsing.snap(teacher, "06-alice-sees-the-badge")

    # alice reads and answers; once bob (who still has it open) reads it, she sees "Seen by".
    teacher.get_by_role("link", name=re.compile(r"^Messages")).click()
    teacher.get_by_role("link", name="Bob Baker").click()
    expect(teacher.locator(".msg-body", has_text=REPLY)).to_be_visible()
    teacher.get_by_label("Message", exact=True).fill(ANSWER)
    teacher.get_by_role("button", name="Send").click()
    expect(student.locator(".msg-body", has_text=ANSWER)).to_be_visible()
    receipts = teacher.locator("#receipts")
    expect(receipts).to_have_text(re.compile(r"Seen by\s+Bob Baker"))
    browsing.snap(teacher, "07-alice-sees-the-receipt")

    # bob turns read receipts off; alice's next message is read without a receipt.
    student.goto(browsing.url("/settings/preferences/"))
    student.get_by_label("Send read receipts").uncheck()
    student.get_by_role("button", name="Save preferences").click()
    expect(student.get_by_label("Send read receipts")).not_to_be_checked()
    browsing.snap(student, "08-bob-turns-receipts-off")
    teacher.get_by_label("Message", exact=True).fill("Did you get the materials?")
    teacher.get_by_role("button", name="Send").click()
    expect(receipts).to_be_hidden()
    # Leaving a page cancels its poll in flight, which htmx reports on the console.
    browsing.allow(r"htmx:(sendAbort|afterRequest)")
    student.goto(direct_url)
    expect(student.locator(".msg-body", has_text="Did you get the materials?")).to_be_visible()
    teacher.reload()
    expect(teacher.locator(".msg-body", has_text="Did you get the materials?")).to_be_visible()
    expect(teacher.locator("#receipts")).to_be_hidden()
    browsing.snap(teacher, "09-alice-no-receipt")
