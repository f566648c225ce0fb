"""Each declared cookie is really set by Lectern, so the declaration holds no stale names."""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client
from django.urls import reverse

from courses.models import Visibility
from courses.tests.factories import CourseFactory
from privacy import cookies
from tests.base import PASSWORD, LecternTestCase


class DeclaredCookiesTest(LecternTestCase):
    def test_it_sets_each_declared_cookie_somewhere(self) -> None:
        seen: set[str] = set()
        # The log-in page hands out the CSRF cookie; signing in, the session cookie.
        seen |= set(self.client.get(reverse("account_login")).cookies)
        response = self.client.post(
            reverse("account_login"), {"login": self.bob.email, "password": PASSWORD}
        )
        seen |= set(response.cookies)
        # Saving preferences sets the colour-scheme cookie and leaves a message for the
        # next page, which rides in the messages cookie.
        response = self.client.post(
            reverse("accounts:preferences"),
            {"timezone": "UTC", "language": "en", "color_scheme": "dark"},
        )
        seen |= set(response.cookies)
        # A visitor opening a storefront from a campaign link gets the analytics cookies.
        course = CourseFactory.create(teacher=self.alice, visibility=Visibility.PUBLIC)
        visitor = Client()
        seen |= set(visitor.get(course.get_absolute_url() + "?utm_source=newsletter").cookies)
        assert cookies.declared_names() - seen == set()

    def test_it_declares_each_cookie_a_signed_in_visit_sets(self) -> None:
        self.client.get(reverse("account_login"))
        self.client.post(reverse("account_login"), {"login": self.bob.email, "password": PASSWORD})
        self.client.post(reverse("accounts:set_color_scheme"), {"color_scheme": "light"})
        assert set(self.client.cookies) - cookies.declared_names() == set()

    def test_it_declares_the_names_settings_use(self) -> None:
        names = cookies.declared_names()
        assert settings.SESSION_COOKIE_NAME in names
        assert settings.CSRF_COOKIE_NAME in names
        assert CookieStorage.cookie_name in names
