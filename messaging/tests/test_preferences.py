"""Settings → Preferences switches read receipts off and on."""

from django.urls import reverse

from messaging.tests.kit import MessagingTestCase


class ReadReceiptSettingTests(MessagingTestCase):
    def save(self, **extra: str):
        data = {"timezone": "Europe/London", "language": "en", "color_scheme": "system", **extra}
        return self.new_client(self.bob).post(reverse("accounts:preferences"), data)

    def test_it_shows_the_setting(self) -> None:
        response = self.new_client(self.bob).get(reverse("accounts:preferences"))
        self.assertContains(response, "Send read receipts")
        self.assertContains(response, 'name="send_read_receipts"')

    def test_it_turns_receipts_off_and_on(self) -> None:
        assert self.save().status_code == 302
        self.bob.refresh_from_db()
        assert self.bob.send_read_receipts is False
        self.save(send_read_receipts="on")
        self.bob.refresh_from_db()
        assert self.bob.send_read_receipts is True
