"""A teacher drafts an announcement with AI, edits the draft and publishes it."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from ai.models import AiRequest
from ai.tests.fake_openai import FakeOpenAI
from courses.models import CourseItem, ItemKind
from courses.tests.factories import CourseFactory
from tests.base import PASSWORD
from tests.browser.kit import PHONE, Browsing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DRAFT = (
    "Hello everyone! Our quiz moves to **Friday** at 10:00. "
    "Please bring a calculator and revise chapters 3 and 4."
)


@pytest.fixture
def fake(settings: Any) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    server.answer = DRAFT
    settings.AI_BASE_URL = server.base_url
    settings.AI_API_KEY = "sk-test"
    settings.AI_MODEL = "small"
    settings.AI_TIMEOUT_SECONDS = 10
    yield server
    server.stop()


def test_a_teacher_drafts_an_announcement_edits_it_and_publishes_it(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    fake: FakeOpenAI,
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    course = CourseFactory.create(teacher=alice, slug="maths", title="Maths for adults")
    page = watched_page
    log_in(page, alice.email, PASSWORD, "01-login")

    page.goto(browsing.url("/teach/courses/maths/"))
    page.get_by_role("link", name="Draft an announcement").click()
    expect(page.get_by_role("heading", name="Draft an announcement", level=1)).to_be_visible()
    # AI is off for alice until she turns it on; nothing can be sent before.
    browsing.snap(page, "02-consent-asked")
    page.get_by_role("button", name="Turn on AI features").click()
    expect(page).to_have_url(re.compile(r"/ai/courses/maths/announcement/$"))

    page.get_by_label("Your points").fill("quiz moves to Friday 10:00\nbring a calculator")
    browsing.snap(page, "03-points")
    page.get_by_role("button", name="Draft the announcement").click()

    body = page.get_by_label("Message")
    expect(body).to_have_value(DRAFT)
    assert not CourseItem.objects.filter(kind=ItemKind.ANNOUNCEMENT).exists()
    browsing.snap(page, "04-draft")
    page.set_viewport_size(PHONE)
    page.emulate_media(color_scheme="dark")
    browsing.snap(page, "05-draft-phone-dark")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(color_scheme="light")

    page.get_by_label("Title").fill("Quiz on Friday")
    body.fill(DRAFT.replace("chapters 3 and 4", "chapter 3 only"))
    page.get_by_role("button", name="Publish").click()

    expect(page).to_have_url(re.compile(r"/teach/courses/maths/"))
    expect(page.get_by_text("Quiz on Friday").first).to_be_visible()
    browsing.snap(page, "06-published")
    item = CourseItem.objects.get(kind=ItemKind.ANNOUNCEMENT)
    assert (item.course, item.title, item.published) == (course, "Quiz on Friday", True)
    assert "chapter 3 only" in item.body
    assert "chapters 3 and 4" not in item.body
    sent = "\n".join(message["content"] for message in fake.requests[-1]["messages"])
    assert "bring a calculator" in sent
    assert AiRequest.objects.get().outcome == AiRequest.Outcome.OK
