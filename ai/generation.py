"""Answers that appear as they are written, without a web worker waiting for them.

A person's request (a question to the course assistant, a draft a teacher
asked for) becomes a *generation*. The view checks everything first (AI on,
consent, access, units) and builds the prompt; `start` hands the rest to a
Celery task on the `ai` queue and answers at once with the generation's
token. The task streams the answer from the endpoint and writes what it has
so far to the cache (Redis in production) at most every `FLUSH_SECONDS`; when
it ends it logs the request and counts the units. The page asks `state` for
the text every few hundred milliseconds, a cache read that takes a web worker
about a millisecond, where holding the connection open for the answer would
take the worker for as long as the model writes.

Without a broker (the embedded default) tasks run inline: the answer is
generated inside the request that asked for it, and the page's first look
finds it whole.

Questions and answers are kept nowhere else: the cache forgets a generation
after `KEEP_SECONDS`, and the log (`AiRequest`) holds who, what for, the ids
of the items used and the token counts, never the text.
"""

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache

from ai import client, prompts, services
from ai.models import AiRequest
from core import jobs
from core.markdown import render_markdown

GENERATE_TASK = "ai.tasks.generate_task"
QUEUE = "ai"
# How often the task writes the text so far where the page reads it.
FLUSH_SECONDS = 0.2
# How long the cache keeps a generation after its last write.
KEEP_SECONDS = 3600
# A task still queued after this long is dropped: whoever asked has stopped waiting.
QUEUE_EXPIRES_SECONDS = 120
# Past the endpoint's deadline by this much, a generation still "running" is given up on.
GIVE_UP_AFTER_DEADLINE_SECONDS = 30
GONE = "This answer is no longer available; ask again."
LOST = "The answer stopped coming; try again."

Status = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True)
class Source:
    """An item given to the model as numbered context, and where a reader opens it."""

    number: int
    item_id: int
    title: str
    url: str


@dataclass(frozen=True)
class Request:
    """Everything the task needs to produce one answer, as plain values (it crosses the broker)."""

    action: str
    user_id: int
    messages: list[dict[str, str]]
    max_tokens: int
    teacher_id: int | None = None
    course_id: int | None = None
    sources: list[Source] = field(default_factory=list)
    # What the person typed, shown above the answer (kept with it in the cache, never logged).
    question: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Request":
        sources = [Source(**source) for source in data.pop("sources", [])]
        return cls(**data, sources=sources)


@dataclass
class State:
    """What the page shows of a generation: the text so far, then the answer."""

    user_id: int
    status: Status
    started_at: float
    question: str = ""
    text: str = ""
    html: str = ""
    error: str = ""
    cited: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "question": self.question,
            "text": self.text,
            "html": self.html,
            "error": self.error,
            "cited": self.cited,
        }


def _key(token: str) -> str:
    return f"ai:generation:{token}"


def _save(token: str, state: State) -> None:
    cache.set(_key(token), asdict(state), KEEP_SECONDS)


def start(request: Request) -> str:
    """Queue `request` and return the token its page polls with."""
    token = secrets.token_urlsafe(16)
    queued = State(
        user_id=request.user_id,
        status="queued",
        started_at=time.time(),
        question=request.question,
    )
    _save(token, queued)
    jobs.task(GENERATE_TASK).apply_async(
        args=(token, asdict(request)), queue=QUEUE, expires=QUEUE_EXPIRES_SECONDS
    )
    return token


def state(token: str, user: Any) -> State | None:
    """Return the generation `token` as `user` may see it; None if it isn't theirs or is gone."""
    data = cache.get(_key(token))
    if data is None or data.get("user_id") != user.pk:
        return None
    current = State(**data)
    waited = time.time() - current.started_at
    limit = settings.AI_TIMEOUT_SECONDS + QUEUE_EXPIRES_SECONDS + GIVE_UP_AFTER_DEADLINE_SECONDS
    if current.status in ("queued", "running") and waited > limit:
        current.status, current.error = "failed", LOST
    return current


def generate(token: str, request: Request) -> State:
    """Write the answer for `token` where its page reads it; log it and count its units."""
    current = State(
        user_id=request.user_id,
        status="running",
        started_at=time.time(),
        question=request.question,
    )
    _save(token, current)

    def log(outcome: str, **details: Any) -> None:
        services.record(
            action=request.action,
            outcome=outcome,
            user_id=request.user_id,
            teacher_id=request.teacher_id,
            course_id=request.course_id,
            context_item_ids=[source.item_id for source in request.sources],
            **details,
        )

    stream = client.stream(request.messages, max_tokens=request.max_tokens)
    flushed = time.monotonic()
    parts: list[str] = []
    try:
        for chunk in stream:
            parts.append(chunk)
            if time.monotonic() - flushed >= FLUSH_SECONDS:
                current.text = "".join(parts)
                _save(token, current)
                flushed = time.monotonic()
    except client.AiUnavailableError as error:
        outcome = AiRequest.Outcome.TIMEOUT if error.timed_out else AiRequest.Outcome.ENDPOINT_ERROR
        log(outcome, error=error.message)
        current.status, current.error, current.text = "failed", error.message, "".join(parts)
        _save(token, current)
        return current
    completion = stream.completion
    assert completion is not None
    log(AiRequest.Outcome.OK, completion=completion)
    current.text = completion.text
    current.html, current.cited = _rendered(completion.text, request.sources)
    current.status = "done"
    _save(token, current)
    return current


def _rendered(text: str, sources: list[Source]) -> tuple[str, list[dict[str, Any]]]:
    """Return the answer as safe HTML with its [n] citations as links, and the items it cites."""
    if not sources:
        return str(render_markdown(text)), []
    by_number = {source.number: source for source in sources}
    linked = prompts.link_citations(text, {n: s.url for n, s in by_number.items()})
    cited = [
        asdict(by_number[number]) for number in prompts.cited_numbers(text) if number in by_number
    ]
    return str(render_markdown(linked)), cited
