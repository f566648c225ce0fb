"""The AI client against a local OpenAI-compatible server: what is sent, answers, errors."""

from collections.abc import Iterator

import pytest
from django.test import override_settings

from ai import client
from ai.tests.fake_openai import MODEL, FakeOpenAI

MESSAGES = [{"role": "user", "content": "Explain photosynthesis."}]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    with override_settings(
        AI_BASE_URL=server.base_url, AI_API_KEY="sk-test", AI_MODEL="small", AI_TIMEOUT_SECONDS=2
    ):
        yield server
    server.stop()


def test_it_is_off_without_an_endpoint_and_a_model() -> None:
    with override_settings(AI_BASE_URL="", AI_MODEL="small"):
        assert not client.configured()
        assert client.endpoint_host() == ""
        with pytest.raises(client.AiUnavailableError, match="not configured"):
            client.complete(MESSAGES, max_tokens=10)
    with override_settings(AI_BASE_URL="http://127.0.0.1:11434/v1", AI_MODEL="", AI_API_KEY="k"):
        assert not client.configured()


def test_it_is_on_with_a_local_server_and_no_key(fake: FakeOpenAI) -> None:
    with override_settings(AI_API_KEY=""):
        assert client.configured()
        assert client.endpoint_host() == "127.0.0.1"
        assert client.complete(MESSAGES, max_tokens=10).text == fake.answer
    assert "authorization" not in fake.headers[-1]


def test_it_ignores_the_sdks_environment(fake: FakeOpenAI, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-from-env")

    client.complete(MESSAGES, max_tokens=10)

    assert fake.headers[-1]["authorization"] == "Bearer sk-test"
    assert "openai-organization" not in fake.headers[-1]


def test_it_completes(fake: FakeOpenAI) -> None:
    answer = client.complete(MESSAGES, max_tokens=50)

    assert fake.requests == [{"model": "small", "messages": MESSAGES, "max_tokens": 50}]
    assert answer.text == fake.answer
    assert (answer.prompt_tokens, answer.completion_tokens, answer.model) == (1200, 300, MODEL)
    assert answer.latency_ms >= 0


def test_it_streams_and_reports_usage_at_the_end(fake: FakeOpenAI) -> None:
    answer = client.stream(MESSAGES, max_tokens=50)

    chunks = list(answer)

    assert len(chunks) == len(fake.answer.split(" "))
    assert "".join(chunks) == fake.answer
    sent = fake.requests[-1]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == MESSAGES
    assert answer.completion is not None
    assert (answer.completion.prompt_tokens, answer.completion.completion_tokens) == (1200, 300)
    assert answer.completion.text == fake.answer


def test_it_estimates_tokens_when_the_endpoint_reports_none(fake: FakeOpenAI) -> None:
    fake.report_usage = False

    answer = client.complete(MESSAGES, max_tokens=50)

    assert answer.prompt_tokens > 0
    assert answer.completion_tokens > 0


@pytest.mark.parametrize(
    ("failure", "message"),
    [("500", client.SERVER_ERROR), ("429", client.BUSY), ("slow", client.TOO_SLOW)],
)
def test_it_turns_endpoint_failures_into_a_clear_message(
    fake: FakeOpenAI, failure: str, message: str
) -> None:
    fake.fail_with = failure
    with pytest.raises(client.AiUnavailableError) as caught:
        client.complete(MESSAGES, max_tokens=50)
    assert caught.value.message == message
    assert caught.value.timed_out == (failure == "slow")
    with pytest.raises(client.AiUnavailableError) as caught:
        list(client.stream(MESSAGES, max_tokens=50))
    assert caught.value.message == message


def test_it_keeps_its_own_deadline_over_a_stream(fake: FakeOpenAI) -> None:
    fake.fail_with = "slow"
    fake.slow_seconds = 3
    with override_settings(AI_TIMEOUT_SECONDS=1):
        answer = client.stream(MESSAGES, max_tokens=50)
        import time

        started = time.monotonic()
        with pytest.raises(client.AiUnavailableError, match="too long"):
            list(answer)
        assert time.monotonic() - started < 2
    assert answer.completion is None


def test_it_reports_a_connection_dropped_mid_stream(fake: FakeOpenAI) -> None:
    fake.fail_with = "drop"
    received: list[str] = []

    def read() -> None:
        received.extend(client.stream(MESSAGES, max_tokens=50))

    with pytest.raises(client.AiUnavailableError) as caught:
        read()
    assert received == [fake.answer.split(" ")[0]]
    assert caught.value.message in (client.UNREACHABLE, client.BAD_ANSWER)


def test_it_reports_an_unreachable_endpoint() -> None:
    with (
        override_settings(AI_BASE_URL="http://127.0.0.1:9/v1", AI_MODEL="m", AI_API_KEY=""),
        pytest.raises(client.AiUnavailableError) as caught,
    ):
        client.complete(MESSAGES, max_tokens=5)
    assert caught.value.message == client.UNREACHABLE
