"""The WSGI handler hands webhooks to their view directly, and everything else to the middleware."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.core import signals
from django.db import close_old_connections
from django.test import RequestFactory

from config.handlers import Handler
from courses.models import Delivery
from courses.tests.factories import CourseItemFactory
from live import services
from live.models import LiveKitEvent
from live.tests.kit import event, livekit_on, sign
from tests.base import LecternTestCase


@contextmanager
def _connections_kept() -> Iterator[None]:
    # As Django's test client does: the test's transaction must outlive the request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _call(handler: Handler, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    with _connections_kept():
        chunks: Any = handler(environ, cast(Any, start_response))
        body = b"".join(chunks)
        chunks.close()
    return answer["status"], answer["headers"], body


@livekit_on
class HandlerTests(LecternTestCase):
    def setUp(self) -> None:
        self.handler = Handler()
        room = services.ensure_room(
            item=CourseItemFactory.create(session=True, delivery=Delivery.LIVE)
        )
        self.body = json.dumps(
            event("room_started", "EV_handler", room=room.name, at=1_796_000_000)
        )

    def test_a_webhook_skips_the_middleware_made_for_browsers(self) -> None:
        request = RequestFactory().post(
            "/live/webhooks/livekit/",
            data=self.body,
            content_type="application/webhook+json",
            headers={"Authorization": sign(self.body)},
        )

        status, headers, body = _call(self.handler, request.environ)

        assert (status, json.loads(body)) == (200, {"received": True})
        assert LiveKitEvent.objects.filter(event_id="EV_handler").exists()
        assert "X-Request-ID" in headers
        for browser_only in ("Content-Security-Policy", "X-Frame-Options", "Set-Cookie", "Vary"):
            assert browser_only not in headers

    def test_an_unsigned_webhook_is_still_refused(self) -> None:
        request = RequestFactory().post(
            "/live/webhooks/livekit/", data=self.body, content_type="application/json"
        )

        status, _, _ = _call(self.handler, request.environ)

        assert status == 401
        assert not LiveKitEvent.objects.exists()

    def test_pages_and_other_methods_keep_the_middleware(self) -> None:
        for request in (
            RequestFactory().get("/healthz"),
            RequestFactory().get("/live/webhooks/livekit/"),
        ):
            status, headers, _ = _call(self.handler, request.environ)
            assert status in (200, 405)
            assert "Content-Security-Policy" in headers
            assert headers["X-Frame-Options"] == "DENY"
