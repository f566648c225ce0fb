"""The whole course page kept in the cache for visitors: the same for all, refreshed at once."""

from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from courses.tests.factories import CourseFactory, EnrollmentFactory
from tests.base import LecternTestCase


class PageCacheTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="shared", capacity=5)
        self.url = reverse("storefront:course", args=["shared"])

    def test_it_serves_every_visitor_the_same_page(self) -> None:
        first, second = Client().get(self.url), Client().get(self.url)
        assert first.content == second.content
        assert "Register for free" in first.content.decode()

    def test_it_holds_no_csrf_token_and_sets_no_cookie_but_analytics(self) -> None:
        for _ in range(2):  # as built, then from the cache
            response = Client().get(self.url)
            html = response.content.decode()
            assert "csrfmiddlewaretoken" not in html
            assert "X-CSRFToken" not in html
            # No session or CSRF cookie; only the visitor's first-party analytics cookie.
            assert set(response.cookies) == {"cls_attrib"}
            assert not Client(headers={"Sec-GPC": "1"}).get(self.url).cookies

    def test_it_shows_a_seat_taken_at_once(self) -> None:
        assert "5</strong> seats left" in self.client.get(self.url).content.decode()
        EnrollmentFactory.create(course=self.course)
        assert "4</strong> seats left" in self.client.get(self.url).content.decode()

    def test_it_shows_a_change_to_the_course_at_once(self) -> None:
        self.client.get(self.url)
        teacher = self.new_client(self.alice)
        teacher.post(reverse("courses:teach_course_unpublish", args=["shared"]))
        assert self.client.get(self.url).status_code == 404

    def test_it_keeps_the_visitors_colour_scheme(self) -> None:
        self.client.get(self.url)
        dark = Client()
        dark.cookies["color_scheme"] = "dark"
        assert 'data-theme="dark"' in dark.get(self.url).content.decode()
        assert 'data-theme="system"' in Client().get(self.url).content.decode()

    def test_it_builds_the_page_afresh_for_a_query_string(self) -> None:
        self.client.get(self.url)
        untracked = Client(headers={"Sec-GPC": "1"})
        response = untracked.get(self.url + "?utm_source=newsletter")
        html = response.content.decode()
        assert "utm_source=newsletter" in html  # the colour switch comes back to this address
        assert "csrfmiddlewaretoken" not in html
        assert "public" in response["Cache-Control"]
        assert "utm_source" not in Client().get(self.url).content.decode()

    def test_it_shows_a_pending_message_in_a_private_page(self) -> None:
        self.client.get(self.url)
        visitor = Client()
        storage = CookieStorage(HttpRequest())
        visitor.cookies["messages"] = storage._encode(  # type: ignore[attr-defined]
            [Message(constants.INFO, "Hello visitor")]
        )
        response = visitor.get(self.url)
        assert "Hello visitor" in response.content.decode()
        assert "private" in response["Cache-Control"]
        assert "Hello visitor" not in Client().get(self.url).content.decode()

    def test_it_never_shares_a_page_built_for_someone_signed_in(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.new_client(self.bob).get(self.url)
        html = Client().get(self.url).content.decode()
        assert "You're in" not in html
        assert "Register for free" in html
