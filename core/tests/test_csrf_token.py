"""The CSRF token endpoint that forms on pages shared by every visitor fetch their token from."""

from django.test import Client, SimpleTestCase
from django.urls import reverse


class CsrfTokenTests(SimpleTestCase):
    url = reverse("csrf_token")

    def test_it_gives_the_browser_its_token_and_cookie(self) -> None:
        client = Client(enforce_csrf_checks=True)
        response = client.get(self.url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json()["token"]
        assert client.cookies["csrftoken"].value

    def test_it_keeps_the_browsers_cookie_on_the_next_fetch(self) -> None:
        client = Client()
        client.get(self.url)
        cookie = client.cookies["csrftoken"].value
        client.get(self.url)
        assert client.cookies["csrftoken"].value == cookie

    def test_it_is_never_cached(self) -> None:
        response = Client().get(self.url)
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]

    def test_it_answers_only_reads(self) -> None:
        assert Client().post(self.url).status_code == 405
        assert Client().delete(self.url).status_code == 405
