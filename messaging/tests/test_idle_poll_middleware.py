"""An unchanged poll answered before the rest of the stack, and only when nothing is left to do.

Each test asks `IdlePollMiddleware` alone whether it answers a request or
passes it on to the full path, then checks what the full path makes of it.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, modify_settings

from core.testing import requires_redis
from messaging.middleware import IdlePollMiddleware
from messaging.tests.kit import MessagingTestCase
from privacy import middleware as policy_middleware
from tests.base import count_queries


class _MiddlewareCase(MessagingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.say(self.alice, "Welcome")
        self.bob_browser = self.htmx(self.bob)
        page = self.bob_browser.get(self.url("conversation", self.channel.pk))
        poller = page.context["poll"]
        self.poll_url = self.url("poll", self.channel.pk)
        self.query = {"after": poller["after"], "v": poller["version"]}
        self.etag = poller["etag"]
        # The first poll goes the full way: it checks membership and remembers it.
        assert self.poll(self.bob_browser).status_code == 304

    def poll(self, browser, etag: str | None = None):
        return browser.get(self.poll_url, self.query, headers={"If-None-Match": etag or self.etag})

    def gate(
        self, browser=None, etag: str | None = None, path: str = "", **extra: str
    ) -> HttpResponse | None:
        """Return the middleware's own answer, or None when it passes the request on."""
        browser = browser or self.bob_browser
        request = RequestFactory().get(
            path or self.poll_url,
            {} if path else self.query,
            headers={"If-None-Match": etag or self.etag, "HX-Request": "true", **extra},
        )
        request.COOKIES = {name: morsel.value for name, morsel in browser.cookies.items()}
        passed: list[HttpRequest] = []

        def full_path(request: HttpRequest) -> HttpResponse:
            passed.append(request)
            return HttpResponse("the full path")

        response = IdlePollMiddleware(full_path)(request)
        return None if passed else response


@requires_redis
class IdlePollMiddlewareTests(_MiddlewareCase):
    def test_an_unchanged_poll_is_answered_with_no_sql(self) -> None:
        queries, _sql, response = count_queries(self.gate)
        assert response is not None
        assert response.status_code == 304
        assert response.content == b""
        assert queries == 0

    @modify_settings(MIDDLEWARE={"remove": "messaging.middleware.IdlePollMiddleware"})
    def full_path_answer(self) -> HttpResponse:
        return self.poll(self.bob_browser)

    def test_it_answers_as_the_full_path_would(self) -> None:
        gated = self.gate()
        full = self.full_path_answer()
        assert gated is not None
        for header in ("ETag", "Cache-Control"):
            assert gated[header] == full[header]
        assert gated.status_code == full.status_code == 304
        assert "Cookie" in gated["Vary"]

    def test_a_post_since_goes_down_the_full_path_and_brings_it(self) -> None:
        self.say(self.erin, "Is the homework due Friday?")
        assert self.gate() is None
        response = self.poll(self.bob_browser)
        assert response.status_code == 200
        self.assertContains(response, "Is the homework due Friday?")

    def test_a_poll_without_the_current_etag_goes_down_the_full_path(self) -> None:
        assert self.gate(etag='W/"c1.v0.r1"') is None
        assert self.gate(etag="*") is None

    def test_a_signed_out_session_goes_down_the_full_path(self) -> None:
        cookies = self.bob_browser.cookies
        self.bob_browser.logout()
        self.bob_browser.cookies = cookies  # a page left open in another tab still sends it
        assert self.gate() is None
        assert self.poll(self.bob_browser).status_code in (302, 401, 403)

    def test_a_changed_account_goes_down_the_full_path(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.bob.first_name = "Robert"
            self.bob.save()
        assert self.gate() is None
        assert self.poll(self.bob_browser).status_code == 304
        # No copy is kept while a change is that fresh (`core.cache.Copies`): still the full path.
        assert self.gate() is None

    def test_a_policy_to_accept_goes_down_the_full_path(self) -> None:
        session = self.bob_browser.session
        session[policy_middleware.SESSION_KEY] = "an older set of policies"
        session.save()
        assert self.gate() is None

    def test_activity_from_another_browser_goes_down_the_full_path_and_is_recorded(self) -> None:
        assert self.gate(**{"User-Agent": "Another browser"}) is None
        self.bob_browser.get(
            self.poll_url,
            self.query,
            headers={"If-None-Match": self.etag, "User-Agent": "Another browser"},
        )
        assert self.gate(**{"User-Agent": "Another browser"}) is not None

    def test_someone_outside_the_conversation_goes_down_the_full_path_and_gets_404(self) -> None:
        dave = self.htmx(self.dave)
        dave.get(self.url("inbox"))  # a signed-in request, so the session is known
        assert self.gate(dave) is None
        assert self.poll(dave).status_code == 404

    def test_only_a_get_of_the_poll_is_answered(self) -> None:
        request = RequestFactory().post(self.poll_url, headers={"If-None-Match": self.etag})
        request.COOKIES = {settings.SESSION_COOKIE_NAME: self.bob_browser.session.session_key or ""}
        response = IdlePollMiddleware(lambda request: HttpResponse("the full path"))(request)
        assert response.content == b"the full path"


@requires_redis
class IdleBadgeMiddlewareTests(_MiddlewareCase):
    """The header's unread badge, answered the same way while its count stands."""

    def badge(self) -> Any:
        return self.bob_browser.get(self.url("unread"))

    def test_an_unchanged_badge_is_answered_with_no_sql(self) -> None:
        etag = self.badge()["ETag"]
        queries, _sql, response = count_queries(
            lambda: self.gate(etag=etag, path=self.url("unread"))
        )
        assert response is not None
        assert response.status_code == 304
        assert response["ETag"] == etag
        assert queries == 0

    def test_a_post_since_goes_down_the_full_path_and_counts_it(self) -> None:
        etag = self.badge()["ETag"]
        self.say(self.erin, "Is the homework due Friday?")
        assert self.gate(etag=etag, path=self.url("unread")) is None
        response = self.bob_browser.get(self.url("unread"), headers={"If-None-Match": etag})
        assert response.status_code == 200
        assert response["ETag"] != etag
