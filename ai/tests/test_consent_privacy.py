"""Consent to AI, and what the privacy registry, export and subprocessors say about AI."""

import pytest
from django.test import override_settings
from django.urls import reverse

from ai import client, services
from ai.models import AiConsent, AiRequest
from privacy import subprocessors
from privacy.registry import registry
from tests.base import LecternTestCase

ON = {"AI_BASE_URL": "https://ai.example.org/v1", "AI_MODEL": "small", "AI_API_KEY": "k"}
OFF = {"AI_BASE_URL": "", "AI_MODEL": ""}
DASHBOARD = reverse("privacy:dashboard")
CONSENTS = reverse("privacy:consents")


@override_settings(**ON)
class ConsentTests(LecternTestCase):
    def test_nobody_has_consented_at_first(self) -> None:
        assert not services.has_consented(self.bob)
        with pytest.raises(services.NoConsentError):
            services.require_consent(self.bob)

    def test_it_records_consent_with_the_endpoint_host(self) -> None:
        consent = services.give_consent(self.bob)

        assert services.has_consented(self.bob)
        assert (consent.endpoint_host, consent.given_at is not None) == ("ai.example.org", True)

    def test_withdrawal_stops_it_at_once(self) -> None:
        services.give_consent(self.bob)
        services.withdraw_consent(self.bob)

        assert not services.has_consented(self.bob)
        assert AiConsent.objects.get(user=self.bob).withdrawn_at is not None

    def test_consent_to_another_host_does_not_count(self) -> None:
        services.give_consent(self.bob)
        with override_settings(AI_BASE_URL="http://127.0.0.1:11434/v1"):
            assert not services.has_consented(self.bob)

    def test_the_privacy_page_names_the_endpoint_and_saves_the_choice(self) -> None:
        web = self.login(self.bob)
        assert "ai.example.org" in web.get(DASHBOARD).content.decode()

        web.post(CONSENTS, {"ai_features": "on"})
        assert services.has_consented(self.bob)

        web.post(CONSENTS, {})
        assert not services.has_consented(self.bob)

    @override_settings(**OFF)
    def test_with_ai_off_the_page_says_so_and_nothing_is_given(self) -> None:
        web = self.login(self.bob)
        assert "AI features are off on this server" in web.get(DASHBOARD).content.decode()

        web.post(CONSENTS, {"ai_features": "on"})

        assert not AiConsent.objects.filter(given=True).exists()
        with pytest.raises(client.AiUnavailableError):
            services.give_consent(self.bob)


class PrivacyTests(LecternTestCase):
    def test_the_export_holds_the_request_log_with_ids_not_content(self) -> None:
        services.record(
            action="assistant", outcome="ok", user=self.bob, teacher=self.alice,
            context_item_ids=[11, 12], completion=client.Completion("secret answer", 10, 5, "m", 9),
        )  # fmt: skip

        rows = list(registry.entries[AiRequest._meta.label].exporter(self.bob))

        assert len(rows) == 1
        assert rows[0]["context_item_ids"] == [11, 12]
        assert "secret answer" not in repr(rows)

    def test_the_ai_endpoint_is_a_subprocessor_only_when_configured(self) -> None:
        with override_settings(**OFF):
            assert "AI service" not in [s.name.split(" (")[0] for s in subprocessors.configured()]
        with override_settings(**ON):
            ai = [s for s in subprocessors.configured() if s.name.startswith("AI service")]
            assert [s.detail() for s in ai] == ["ai.example.org"]
