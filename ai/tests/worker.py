"""A real Celery worker for AI answers, as production runs it: the `ai` queue, on threads.

    with ai_worker(tmp_path, fake) as worker:   # fake: a started FakeOpenAI
        token = generation.start(...)           # sent to Redis, written by the worker

Needs REDIS_URL and PostgreSQL (see privacy.tests.worker); the test's settings
must point AI_* at `fake` too, since the web side checks them before starting.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from ai import generation
from ai.tests.fake_openai import FakeOpenAI
from config.celery import app
from privacy.tests.worker import Worker, start_worker

TIMEOUT_SECONDS = 20


@contextmanager
def ai_worker(folder: Path, fake: FakeOpenAI) -> Iterator[Worker]:
    """Run a worker on the `ai` queue whose AI settings point at `fake`; tasks go to Redis."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    worker = start_worker(
        folder,
        database=connection.settings_dict["NAME"],
        queues=generation.QUEUE,
        pool="threads",
        concurrency=4,
        extra_settings=(
            f"AI_BASE_URL = {fake.base_url!r}\n"
            "AI_API_KEY = 'sk-test'\n"
            "AI_MODEL = 'small'\n"
            f"AI_TIMEOUT_SECONDS = {TIMEOUT_SECONDS}\n"
        ),
    )
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.task_always_eager = eager
