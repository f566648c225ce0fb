"""Every use Lectern makes of OpenAI's SDK, and the only module that imports it.

The endpoint is any OpenAI-compatible server (OpenAI, vLLM, llama.cpp,
Ollama) named by AI_BASE_URL, AI_API_KEY and AI_MODEL; nothing else switches
AI on, and the SDK's own environment variables are never read (the client
gets every value explicitly, and what it would still pick up from the
environment is undone).

AI_TIMEOUT_SECONDS is a deadline for the whole request, from sending it to
the last word of the answer. The SDK's timeout only bounds each wait for
bytes, so a server that trickles tokens could keep a request going for ever:
the request runs in a worker thread and the caller waits for it on a queue
no longer than what is left of the deadline. On time-out the caller gets its
error at once; the worker stops at its next chunk (or when its own read
times out) and closes the connection.

Every failure to get an answer, whatever the SDK or the network raised,
reaches callers as `AiUnavailableError` with a sentence a person can read.
"""

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai
from django.conf import settings

logger = logging.getLogger(__name__)

BUSY = "The AI service is busy; try again in a minute."
TOO_SLOW = "The AI service took too long to answer; try again later."
UNREACHABLE = "The AI service can't be reached right now; try again later."
REFUSED_KEY = (
    "The AI service refused this server's request; the site's administrators need to check "
    "its AI settings."
)
TOO_LONG = "The AI service couldn't handle this request; try a shorter one."
SERVER_ERROR = "The AI service had a problem answering; try again in a few minutes."
BAD_ANSWER = "The AI service sent an answer that couldn't be read; try again later."
NOT_CONFIGURED = "AI is not configured on this server."


class AiUnavailableError(Exception):
    """No answer from the AI endpoint; `message` says why, `timed_out` whether it was too slow."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.timed_out = timed_out


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    latency_ms: int


def configured() -> bool:
    """Say whether AI is on: an endpoint and a model are set (a local server may need no key)."""
    return bool(settings.AI_BASE_URL and settings.AI_MODEL)


def endpoint_host() -> str:
    """Return the host AI requests go to ("api.openai.com"), or "" when AI is off."""
    if not configured():
        return ""
    return urlsplit(settings.AI_BASE_URL).hostname or ""


def _client() -> openai.OpenAI:
    if not configured():
        raise AiUnavailableError(NOT_CONFIGURED)
    client = openai.OpenAI(
        base_url=settings.AI_BASE_URL,
        api_key=settings.AI_API_KEY,
        # Given, though empty: left out, the SDK would read OPENAI_ADMIN_KEY, and without any
        # key it refuses to start (a local server needs none).
        admin_api_key="",
        webhook_secret="",
        max_retries=0,
        timeout=float(settings.AI_TIMEOUT_SECONDS),
    )
    # Left out, these come from OPENAI_ORG_ID / OPENAI_PROJECT_ID; given empty, they'd be sent
    # as empty headers. Neither belongs to a server that isn't OpenAI's.
    client.organization = None
    client.project = None
    return client


def _extra_headers() -> dict[str, Any]:
    # Without a key (a local server), the SDK must be told the header is left out on purpose.
    return {} if settings.AI_API_KEY else {"Authorization": openai.omit}


def _message_for(exc: BaseException) -> AiUnavailableError:
    """Turn whatever stopped a request into the error callers show."""
    if isinstance(exc, AiUnavailableError):
        return exc
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return AiUnavailableError(TOO_SLOW, timed_out=True)
    if isinstance(exc, openai.RateLimitError):
        return AiUnavailableError(BUSY)
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return AiUnavailableError(UNREACHABLE)
    if isinstance(
        exc, openai.AuthenticationError | openai.PermissionDeniedError | openai.NotFoundError
    ):
        logger.warning("The AI endpoint refused the request: %s", exc)
        return AiUnavailableError(REFUSED_KEY)
    if isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
        logger.warning("The AI endpoint rejected the request: %s", exc)
        return AiUnavailableError(TOO_LONG)
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        return AiUnavailableError(SERVER_ERROR)
    logger.warning("Unreadable answer from the AI endpoint: %r", exc)
    return AiUnavailableError(BAD_ANSWER)


def _estimate_tokens(text: str) -> int:
    # About four characters a token in English; used only when the endpoint reports no usage,
    # so an answer is never free because a server left usage out.
    return math.ceil(len(text) / 4)


def _prompt_text(messages: list[dict[str, str]]) -> str:
    return "".join(m.get("content", "") for m in messages)


_DONE = object()


def _run_in_worker(
    produce: Callable[[Callable[[Any], None], threading.Event], None],
) -> Iterator[Any]:
    """Yield what `produce` puts, from a worker thread, until done or the deadline passes.

    `produce(put, stop)` runs in the thread; it calls `put` with each item and
    should return soon after `stop` is set. Any exception it raises is raised
    here, as `AiUnavailableError`.
    """
    deadline = time.monotonic() + settings.AI_TIMEOUT_SECONDS
    items: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            produce(items.put, stop)
        except BaseException as exc:
            items.put(exc)
        else:
            items.put(_DONE)

    threading.Thread(target=work, name="ai-request", daemon=True).start()
    try:
        while True:
            try:
                item = items.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AiUnavailableError(TOO_SLOW, timed_out=True) from None
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise _message_for(item) from item
            yield item
    finally:
        # On time-out, an error, or a caller that stopped reading: the worker lets go.
        stop.set()


def complete(messages: list[dict[str, str]], *, max_tokens: int) -> Completion:
    """Send `messages` to the configured model and return its whole answer."""
    client = _client()
    started = time.monotonic()

    def produce(put: Callable[[Any], None], stop: threading.Event) -> None:
        put(
            client.chat.completions.create(
                model=settings.AI_MODEL,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                extra_headers=_extra_headers(),
            )
        )

    try:
        results = list(_run_in_worker(produce))
        response = results[0]
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = response.usage
    except AiUnavailableError:
        raise
    except Exception as exc:  # a reply the SDK parsed into something unexpected
        raise _message_for(exc) from exc
    return Completion(
        text=text,
        prompt_tokens=usage.prompt_tokens if usage else _estimate_tokens(_prompt_text(messages)),
        completion_tokens=usage.completion_tokens if usage else _estimate_tokens(text),
        model=response.model or settings.AI_MODEL,
        latency_ms=round((time.monotonic() - started) * 1000),
    )


class CompletionStream:
    """The answer as it is generated: iterate for text chunks; `completion` once it is done.

    Iterating raises `AiUnavailableError` when the endpoint fails or the
    deadline passes, even after some text came.
    """

    def __init__(self, messages: list[dict[str, str]], *, max_tokens: int) -> None:
        self.messages = messages
        self.max_tokens = max_tokens
        self.completion: Completion | None = None

    def __iter__(self) -> Iterator[str]:
        client = _client()
        started = time.monotonic()
        parts: list[str] = []
        usage: Any = None
        model = settings.AI_MODEL

        def produce(put: Callable[[Any], None], stop: threading.Event) -> None:
            chunks = client.chat.completions.create(  # type: ignore[call-overload]
                model=settings.AI_MODEL,
                messages=self.messages,
                max_tokens=self.max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                extra_headers=_extra_headers(),
            )
            with chunks:
                for chunk in chunks:
                    if stop.is_set():
                        return
                    put(chunk)

        for chunk in _run_in_worker(produce):
            try:
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = chunk.usage
                # The usage chunk comes last, with no choices.
                text = chunk.choices[0].delta.content if chunk.choices else None
            except Exception as exc:
                raise _message_for(exc) from exc
            if text:
                parts.append(text)
                yield text
        answer = "".join(parts)
        self.completion = Completion(
            text=answer,
            prompt_tokens=(
                usage.prompt_tokens if usage else _estimate_tokens(_prompt_text(self.messages))
            ),
            completion_tokens=usage.completion_tokens if usage else _estimate_tokens(answer),
            model=model,
            latency_ms=round((time.monotonic() - started) * 1000),
        )


def stream(messages: list[dict[str, str]], *, max_tokens: int) -> CompletionStream:
    """Send `messages` and return the answer as a stream of text chunks (sent on iterating)."""
    if not configured():
        raise AiUnavailableError(NOT_CONFIGURED)
    return CompletionStream(messages, max_tokens=max_tokens)
