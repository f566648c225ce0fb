"""Registering from the page every visitor shares: a real CSRF token, fetched or on its own page."""

import re

from django.test import Client
from django.urls import reverse

from accounts.models import User
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase

FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
GINA = {"first_name": "Gina", "last_name": "Guest", "email": "gina@example.org"}


class SharedPageRegistrationTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="watercolour", capacity=10)
        self.page = reverse("storefront:course", args=["watercolour"])
        self.register_url = reverse("courses:register", args=["watercolour"])
        self.visitor = Client(enforce_csrf_checks=True)

    def register(self, data: dict[str, str]):
        with self.captureOnCommitCallbacks(execute=True):
            return self.visitor.post(self.register_url, data)

    def gina_enrolled(self) -> bool:
        return Enrollment.objects.filter(course=self.course, student__email=GINA["email"]).exists()

    def test_its_forms_say_where_to_fetch_a_token(self) -> None:
        html = self.visitor.get(self.page).content.decode()
        fetching = re.findall(r'<form[^>]*action="([^"]+)"[^>]*data-csrf-from="([^"]+)"', html)
        token_url = reverse("csrf_token")
        assert (self.register_url, token_url) in fetching
        assert (reverse("accounts:set_color_scheme"), token_url) in fetching

    def test_it_registers_with_a_fetched_token(self) -> None:
        self.visitor.get(self.page)
        token = self.visitor.get(reverse("csrf_token")).json()["token"]
        response = self.register({**GINA, "csrfmiddlewaretoken": token})
        self.assertContains(response, "Check your inbox")
        assert self.gina_enrolled()

    def test_it_refuses_a_registration_without_a_token(self) -> None:
        self.visitor.get(self.page)
        response = self.register(GINA)
        assert response.status_code == 403
        assert not User.objects.filter(email=GINA["email"]).exists()

    def test_it_refuses_a_token_from_another_browser(self) -> None:
        token = Client().get(reverse("csrf_token")).json()["token"]
        self.visitor.get(reverse("csrf_token"))
        assert self.register({**GINA, "csrfmiddlewaretoken": token}).status_code == 403
        assert not self.gina_enrolled()

    def test_it_offers_the_registration_page_without_javascript(self) -> None:
        html = self.visitor.get(self.page).content.decode()
        noscript = html.split("<noscript>")[-1].split("</noscript>")[0]
        assert f'href="{self.register_url}"' in noscript
        assert "Register for free" in noscript

    def test_the_registration_page_holds_the_form_with_a_token(self) -> None:
        response = self.visitor.get(self.register_url)
        assert "no-store" in response["Cache-Control"]
        token = FORM_TOKEN.search(response.content.decode())
        assert token
        response = self.register({**GINA, "csrfmiddlewaretoken": token.group(1)})
        self.assertContains(response, "Check your inbox")
        assert self.gina_enrolled()

    def test_a_page_built_for_someone_signed_in_holds_their_own_token(self) -> None:
        bob = self.login(self.bob, Client(enforce_csrf_checks=True))
        html = bob.get(self.page).content.decode()
        assert FORM_TOKEN.search(html)
        assert "data-csrf-from" not in html
