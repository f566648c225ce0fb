"""The consent shortcut: "Turn on AI features" from an AI page, then back to it."""

from django.test import Client, override_settings
from django.urls import reverse

from ai import services
from ai.models import AiConsent
from tests.base import LecternTestCase

ON = {"AI_BASE_URL": "https://ai.example.org/v1", "AI_MODEL": "small", "AI_API_KEY": "k"}
URL = reverse("ai:consent")
PRIVACY = reverse("privacy:dashboard")


@override_settings(**ON)
class ConsentShortcutTests(LecternTestCase):
    def test_it_gives_consent_and_goes_back_to_the_page(self) -> None:
        back = reverse("ai:assistant", args=["botany"])

        response = self.login(self.bob).post(URL, {"next": back})

        self.assertRedirects(response, back, fetch_redirect_response=False)
        assert services.has_consented(self.bob)
        assert AiConsent.objects.get(user=self.bob).endpoint_host == "ai.example.org"

    def test_it_says_so_and_names_the_ai_service(self) -> None:
        response = self.login(self.bob).post(URL, follow=True)

        self.assertContains(response, "AI features are on")
        self.assertContains(response, "ai.example.org")

    def test_without_next_it_goes_to_the_privacy_settings(self) -> None:
        response = self.login(self.bob).post(URL)

        self.assertRedirects(response, PRIVACY, fetch_redirect_response=False)

    def test_it_never_sends_anyone_off_the_site(self) -> None:
        web = self.login(self.bob)

        for unsafe in (
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "javascript:alert(1)",
            "ai:assistant",
            "dashboard",
            "/dashboard/\nSet-Cookie: x=1",
            "/dashboard/\x00",
        ):
            response = web.post(URL, {"next": unsafe})
            self.assertRedirects(response, PRIVACY, fetch_redirect_response=False)

    def test_it_takes_only_post(self) -> None:
        assert self.login(self.bob).get(URL).status_code == 405
        assert not services.has_consented(self.bob)

    def test_visitors_go_to_log_in(self) -> None:
        response = Client().post(URL)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        assert not AiConsent.objects.exists()


class ConsentShortcutWithoutAiTests(LecternTestCase):
    @override_settings(AI_BASE_URL="", AI_MODEL="")
    def test_without_ai_configured_it_says_so_and_records_nothing(self) -> None:
        response = self.login(self.bob).post(URL, {"next": PRIVACY})

        self.assertContains(response, "AI is not configured on this server.", status_code=400)
        assert not AiConsent.objects.exists()
