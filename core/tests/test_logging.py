"""Structured logs: one JSON object per line, tagged with the request id."""

import io
import json
import logging
import re
import sys
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from core.logging import JsonFormatter, RequestIdFilter, request_id_var


@pytest.fixture
def request_log() -> Iterator[io.StringIO]:
    """Capture the request logger's lines as production formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("lectern.request")
    logger.addHandler(handler)
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_it_formats_a_record_as_one_json_line_with_the_request_id() -> None:
    token = request_id_var.set("req-12345678")
    try:
        record = logging.LogRecord(
            "lectern.test", logging.WARNING, __file__, 1, "hi %s", ("x",), None
        )
        record.course_id = 7
        RequestIdFilter().filter(record)
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)

    assert "\n" not in line
    payload = json.loads(line)
    assert payload["request_id"] == "req-12345678"
    assert payload["message"] == "hi x"
    assert payload["level"] == "WARNING"
    assert payload["logger"] == "lectern.test"
    assert payload["course_id"] == 7
    assert payload["time"].endswith("+00:00")


def test_it_includes_the_traceback_of_an_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})

    payload = json.loads(JsonFormatter().format(record))

    assert "ValueError: boom" in payload["exception"]


@pytest.mark.django_db
def test_it_gives_every_response_a_request_id(client: Client) -> None:
    response = client.get(reverse("healthz"))

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert client.get(reverse("healthz"))["X-Request-ID"] != response["X-Request-ID"]


@pytest.mark.django_db
def test_it_keeps_a_sane_request_id_from_the_edge(client: Client, request_log: io.StringIO) -> None:
    response = client.get(reverse("healthz"), headers={"X-Request-ID": "edge-abc.123_XYZ"})

    assert response["X-Request-ID"] == "edge-abc.123_XYZ"
    [line] = lines(request_log)
    assert line["request_id"] == "edge-abc.123_XYZ"
    assert line["path"] == "/healthz"
    assert line["status"] == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["short", "has spaces in it", "forged\nlog-line", "x" * 65, "<script>alert(1)</script>"],
)
def test_it_replaces_a_malformed_request_id(
    client: Client, request_log: io.StringIO, incoming: str
) -> None:
    response = client.get(reverse("healthz"), headers={"X-Request-ID": incoming})

    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    [line] = lines(request_log)
    assert line["request_id"] == response["X-Request-ID"]
