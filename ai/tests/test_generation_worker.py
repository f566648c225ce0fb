"""The production shape: a real Celery worker on the `ai` queue writes an answer as it comes.

With a broker, `generation.start` returns at once and the answer is written by
the worker, word by word, where the page polls it: the poll sees part of the
answer before all of it, and the finished answer once, logged once.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from accounts.models import User
from ai import generation
from ai.models import AiRequest, AiUsageMonth
from ai.tests.fake_openai import FakeOpenAI
from ai.tests.worker import TIMEOUT_SECONDS, ai_worker
from core.testing import requires_postgres, requires_redis
from courses.tests.factories import CourseFactory
from privacy.tests.worker import Worker

pytestmark = [requires_postgres, requires_redis, pytest.mark.django_db(transaction=True)]

WORDS = 12


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    server.answer = " ".join(f"word{n}" for n in range(WORDS)) + " [1]"
    server.word_seconds = 0.15
    with override_settings(
        AI_BASE_URL=server.base_url,
        AI_API_KEY="sk-test",
        AI_MODEL="small",
        AI_TIMEOUT_SECONDS=TIMEOUT_SECONDS,
    ):
        yield server
    server.stop()


@pytest.fixture
def worker(fake: FakeOpenAI, tmp_path: Path) -> Iterator[Worker]:
    with ai_worker(tmp_path / "worker", fake) as running:
        yield running


def test_the_worker_writes_the_answer_as_it_comes(
    worker: Worker, fake: FakeOpenAI, alice: User, bob: User
) -> None:
    course = CourseFactory.create(teacher=alice)
    request = generation.Request(
        action=AiRequest.Action.ASSISTANT,
        user_id=bob.pk,
        teacher_id=alice.pk,
        course_id=course.pk,
        messages=[{"role": "user", "content": "Tell me."}],
        max_tokens=100,
        sources=[generation.Source(1, 5, "Week 1", "/courses/x/items/5/")],
    )

    started = time.monotonic()
    token = generation.start(request)
    assert time.monotonic() - started < 1, "start() waited for the answer"
    seen: list[str] = []

    def finished() -> bool:
        state = generation.state(token, bob)
        assert state is not None
        if state.text and state.text not in seen:
            seen.append(state.text)
        return state.status in ("done", "failed")

    worker.wait_for(finished, timeout=30, every=0.05)

    state = generation.state(token, bob)
    assert state is not None
    assert state.status == "done", state.error
    assert state.text == fake.answer
    partial = [text for text in seen if text != fake.answer]
    assert partial, "the poll never saw the answer before it was whole"
    assert all(fake.answer.startswith(text) for text in partial)
    assert 'href="/courses/x/items/5/"' in state.html
    assert AiRequest.objects.get().outcome == AiRequest.Outcome.OK
    assert AiUsageMonth.objects.get(teacher=alice).units == 2
