"""Settings → Privacy consents: notification email, read receipts and AI features."""

import datetime as dt

from django.urls import reverse

from notifications import services as notification_services
from notifications.models import EmailMode, NotificationPreference, preference_for
from tests.base import LecternTestCase

URL = reverse("privacy:consents")
DASHBOARD = reverse("privacy:dashboard")


class ConsentsTest(LecternTestCase):
    def mode(self) -> str:
        return preference_for(type(self.bob).objects.get(pk=self.bob.pk)).email_mode

    def test_it_shows_the_current_choices(self) -> None:
        self.bob.send_read_receipts = False
        self.bob.save(update_fields=["send_read_receipts"])
        self.login(self.bob)
        form = self.client.get(DASHBOARD).context["consents"]
        assert form.initial == {
            "ai_features": False,
            "email_notifications": True,
            "send_read_receipts": False,
        }

    def test_it_turns_notification_email_off(self) -> None:
        self.login(self.bob)
        response = self.client.post(URL, {"send_read_receipts": "on"})
        self.assertRedirects(response, DASHBOARD)
        assert self.mode() == EmailMode.OFF

    def test_it_turns_notification_email_back_on_right_away(self) -> None:
        notification_services.save_preferences(
            user=self.bob,
            email_mode=EmailMode.OFF,
            quiet_hours_start=dt.time(22),
            quiet_hours_end=dt.time(7),
            digest_hour=9,
        )
        self.login(self.bob)
        self.client.post(URL, {"email_notifications": "on", "send_read_receipts": "on"})
        pref = NotificationPreference.objects.get(user=self.bob)
        assert pref.email_mode == EmailMode.IMMEDIATE
        # The detailed settings made elsewhere are kept.
        assert (pref.quiet_hours_start, pref.digest_hour) == (dt.time(22), 9)

    def test_it_keeps_the_daily_digest_of_someone_who_leaves_email_on(self) -> None:
        notification_services.save_preferences(
            user=self.bob,
            email_mode=EmailMode.DIGEST,
            quiet_hours_start=None,
            quiet_hours_end=None,
            digest_hour=8,
        )
        self.login(self.bob)
        self.client.post(URL, {"email_notifications": "on", "send_read_receipts": "on"})
        assert self.mode() == EmailMode.DIGEST

    def test_it_turns_read_receipts_off_and_on(self) -> None:
        self.login(self.bob)
        self.client.post(URL, {"email_notifications": "on"})
        self.bob.refresh_from_db()
        assert not self.bob.send_read_receipts
        self.client.post(URL, {"email_notifications": "on", "send_read_receipts": "on"})
        self.bob.refresh_from_db()
        assert self.bob.send_read_receipts

    def test_it_changes_only_the_signed_in_person(self) -> None:
        self.login(self.bob)
        self.client.post(URL, {})
        self.dave.refresh_from_db()
        assert self.dave.send_read_receipts
        assert not NotificationPreference.objects.filter(user=self.dave).exists()

    def test_it_confirms_the_change(self) -> None:
        self.login(self.bob)
        response = self.client.post(URL, {"email_notifications": "on"}, follow=True)
        self.assertContains(response, "Your privacy choices are saved.")

    def test_it_links_to_the_detailed_notification_settings(self) -> None:
        self.login(self.bob)
        self.assertContains(self.client.get(DASHBOARD), reverse("notifications:preferences"))

    def test_it_requires_login(self) -> None:
        response = self.client.post(URL, {})
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]

    def test_it_rejects_get(self) -> None:
        self.login(self.bob)
        assert self.client.get(URL).status_code == 405
