"""Posting is rate-limited per person per minute, with a clear answer."""

from django.test import override_settings

from messaging.models import Message
from messaging.tests.kit import MessagingTestCase
from tests.base import fresh_rate_window


@override_settings(MESSAGE_RATE_PER_MINUTE=3)
class RateLimitTests(MessagingTestCase):
    def setUp(self) -> None:
        super().setUp()
        clock = fresh_rate_window(60)
        clock.start()
        self.addCleanup(clock.stop)

    def test_it_answers_429_with_when_to_try_again(self) -> None:
        client = self.new_client(self.bob)
        for n in range(3):
            assert (
                client.post(self.url("post", self.channel.pk), {"body": f"m{n}"}).status_code == 302
            )
        response = client.post(self.url("post", self.channel.pk), {"body": "one too many"})
        assert response.status_code == 429
        assert int(response["Retry-After"]) >= 1
        self.assertContains(response, "at most 3 a minute", status_code=429)
        self.assertContains(response, "one too many", status_code=429)
        assert Message.objects.count() == 3

    def test_htmx_gets_the_composer_with_the_message(self) -> None:
        client = self.htmx(self.bob)
        for n in range(3):
            client.post(self.url("post", self.channel.pk), {"body": f"m{n}"})
        response = client.post(self.url("post", self.channel.pk), {"body": "wait"})
        assert response.status_code == 429
        self.assertContains(response, 'id="composer"', status_code=429)
        self.assertContains(response, "sending messages quickly", status_code=429)

    def test_the_limit_is_per_person(self) -> None:
        bob = self.new_client(self.bob)
        for n in range(4):
            bob.post(self.url("post", self.channel.pk), {"body": f"m{n}"})
        response = self.new_client(self.erin).post(
            self.url("post", self.channel.pk), {"body": "hi"}
        )
        assert response.status_code == 302
