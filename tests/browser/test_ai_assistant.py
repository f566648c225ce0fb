"""A student turns AI on, asks the course assistant, and watches the answer being written.

The answer is written as production writes it: by a real Celery worker on the
`ai` queue (threads), from a local OpenAI-compatible server that sends one word
at a time, while the page polls for the text so far. Needs Redis and
PostgreSQL for the worker.
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from ai.models import AiConsent, AiRequest
from ai.tests.fake_openai import FakeOpenAI
from ai.tests.worker import TIMEOUT_SECONDS, ai_worker
from core.testing import requires_postgres, requires_redis
from courses.models import Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import PASSWORD
from tests.browser.kit import PHONE, Browsing

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    requires_postgres,
    requires_redis,
]

ANSWER = (
    "Leaves turn light into sugar, which is how a plant feeds itself [1]. "
    "Water comes up from the roots to the leaves through the stem [2]."
)


@pytest.fixture
def fake(settings: Any) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    server.answer = ANSWER
    server.word_seconds = 0.2  # about 4 s for the whole answer: long enough to watch it grow
    settings.AI_BASE_URL = server.base_url
    settings.AI_API_KEY = "sk-test"
    settings.AI_MODEL = "small"
    settings.AI_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    yield server
    server.stop()


def test_a_student_consents_asks_and_reads_a_cited_answer_as_it_is_written(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    bob: User,
    fake: FakeOpenAI,
    tmp_path: Path,
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    course = CourseFactory.create(teacher=alice, slug="botany", title="Botany", ai_assistant=True)
    leaves = CourseItemFactory.create(
        course=course, title="Leaves", body="Leaves make sugar from light: photosynthesis."
    )
    roots = CourseItemFactory.create(
        course=course, title="Roots and stems", body="Roots take up water; stems carry it."
    )
    CourseItemFactory.create(
        course=course, title="Draft: exam answers", body="Photosynthesis answers", published=False
    )
    Enrollment.objects.create(course=course, student=bob)
    page = watched_page
    log_in(page, bob.email, PASSWORD, "01-login")

    page.goto(browsing.url("/courses/botany/"))
    page.get_by_role("link", name="Ask the course assistant").click()
    expect(
        page.get_by_role("heading", name="Turn on AI features to use the assistant")
    ).to_be_visible()
    browsing.snap(page, "02-consent-asked")
    page.get_by_role("button", name="Turn on AI features").click()
    expect(page).to_have_url(re.compile(r"/ai/courses/botany/assistant/$"))
    assert AiConsent.objects.get(user=bob).given

    with ai_worker(tmp_path / "worker", fake):
        page.get_by_label("What would you like to know?").fill(
            "How does photosynthesis feed a plant, and what do its roots do?"
        )
        browsing.snap(page, "03-question")
        page.get_by_role("button", name="Ask").click()

        answer = page.locator("[data-ai-answer]")
        text = answer.locator("[data-ai-text]")
        # Part of the answer shows while the rest is still being written.
        expect(text).to_contain_text("Leaves turn light", timeout=10_000)
        expect(answer).to_have_attribute("aria-busy", "true")
        assert "through the stem" not in text.inner_text()
        browsing.snap(page, "04-being-written")

        expect(answer.get_by_role("heading", name="Sources from this course")).to_be_visible(
            timeout=15_000
        )
    expect(answer).to_have_attribute("aria-busy", "false")
    expect(answer.get_by_text("You asked")).to_be_visible()
    body = answer.locator("[data-ai-html]")
    expect(body).to_contain_text("through the stem")
    # [1] is whichever item the search ranked first and sent as block 1.
    sent = "\n".join(message["content"] for message in fake.requests[-1]["messages"])
    first = leaves if "<<<ITEM 1: Leaves>>>" in sent else roots
    expect(body.get_by_role("link", name="[1]")).to_have_attribute(
        "href", f"/courses/botany/items/{first.pk}/"
    )
    sources = answer.locator("[data-ai-sources]")
    expect(sources.get_by_role("link", name="Leaves")).to_be_visible()
    expect(sources.get_by_role("link", name="Roots and stems")).to_be_visible()
    browsing.snap(page, "05-answer")
    page.set_viewport_size(PHONE)
    browsing.snap(page, "06-answer-phone")
    page.emulate_media(color_scheme="dark")
    browsing.snap(page, "07-answer-dark")

    # What was sent: the published items, never the draft; the question itself.
    assert "Leaves make sugar from light" in sent
    assert "How does photosynthesis feed a plant, and what do its roots do?" in sent
    assert "exam answers" not in sent
    logged = AiRequest.objects.get()
    assert (logged.user, logged.teacher, logged.outcome) == (bob, alice, AiRequest.Outcome.OK)

    body.get_by_role("link", name="[1]").click()
    expect(page.get_by_role("heading", name=first.title, level=1)).to_be_visible()
    browsing.snap(page, "08-cited-item")
