"""The whole course page kept in the cache for visitors: shared safely, refreshed at once."""

import re

from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from courses.tests.factories import CourseFactory, EnrollmentFactory
from courses.views.storefront import CSRF_PLACEHOLDER
from tests.base import LecternTestCase

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class PageCacheTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="shared", capacity=5)
        self.url = reverse("courses:storefront", args=["shared"])

    def test_it_gives_each_visitor_their_own_csrf_token(self) -> None:
        first, second = Client(), Client()
        html_a = first.get(self.url).content.decode()
        html_b = second.get(self.url).content.decode()
        assert CSRF_PLACEHOLDER not in html_a + html_b
        token_a, token_b = TOKEN.search(html_a), TOKEN.search(html_b)
        assert token_a
        assert token_b
        assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value

    def test_the_token_in_a_cached_page_is_accepted(self) -> None:
        Client().get(self.url)  # fills the cache
        visitor = Client(enforce_csrf_checks=True)
        html = visitor.get(self.url).content.decode()
        token = TOKEN.search(html)
        assert token
        response = visitor.post(
            reverse("accounts:set_color_scheme"),
            {"color_scheme": "dark", "next": self.url, "csrfmiddlewaretoken": token.group(1)},
        )
        assert response.status_code == 302

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
        html = self.client.get(self.url + "?utm_source=newsletter").content.decode()
        assert "utm_source=newsletter" in html  # the colour switch comes back to this address
        assert "utm_source" not in Client().get(self.url).content.decode()

    def test_it_shows_a_pending_message_instead_of_the_shared_page(self) -> None:
        self.client.get(self.url)
        visitor = Client()
        storage = CookieStorage(HttpRequest())
        visitor.cookies["messages"] = storage._encode(  # type: ignore[attr-defined]
            [Message(constants.INFO, "Hello visitor")]
        )
        assert "Hello visitor" in visitor.get(self.url).content.decode()
        assert "Hello visitor" not in Client().get(self.url).content.decode()

    def test_it_never_shares_a_page_built_for_someone_signed_in(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.new_client(self.bob).get(self.url)
        html = Client().get(self.url).content.decode()
        assert "You're in" not in html
        assert "Register for free" in html
