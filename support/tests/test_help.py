"""Help: signed-in people ask the team; the answer goes to their account's address."""

from django.core import mail
from django.test import override_settings
from django.urls import reverse

from support.models import SupportRequest
from support.views import PER_ACCOUNT
from tests.base import LecternTestCase, fresh_rate_window

URL = reverse("support:help")
SUPPORT = "help@lectern.example"


@override_settings(SUPPORT_EMAIL=SUPPORT)
class HelpTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.login(self.bob)

    def test_it_shows_the_form_in_settings(self) -> None:
        response = self.client.get(URL)

        self.assertContains(response, "<h1>Help</h1>", html=True)
        self.assertContains(response, f"We'll answer {self.bob.email}")
        self.assertContains(response, 'aria-current="page"')
        self.assertNotContains(response, 'name="email"')

    def test_it_stores_the_request_with_the_account_and_emails_the_team(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                URL, {"category": "courses", "message": "The week 3 video doesn't play."}
            )

        self.assertRedirects(response, reverse("support:sent"))
        request = SupportRequest.objects.get()
        assert (request.user, request.email) == (self.bob, self.bob.email)
        assert request.name == self.bob.get_full_name()
        assert request.category == "courses"
        [email] = mail.outbox
        assert email.to == [SUPPORT]
        assert self.bob.email in str(email.message()["Reply-To"])
        assert f"(signed in, account {self.bob.pk})" in email.body
        assert "The week 3 video doesn't play." in email.body

    def test_it_says_where_the_answer_goes(self) -> None:
        response = self.client.get(reverse("support:sent"))

        self.assertContains(response, f"at {self.bob.email}")

    def test_it_says_what_is_missing(self) -> None:
        response = self.client.post(URL, {"category": "courses", "message": ""})

        self.assertContains(response, "Write your message.", status_code=400)
        assert not SupportRequest.objects.exists()

    def test_it_thanks_a_bot_and_keeps_nothing(self) -> None:
        response = self.client.post(URL, {"message": "Buy followers now!!", "website": "x"})

        self.assertRedirects(response, reverse("support:sent"))
        assert not SupportRequest.objects.exists()

    def test_it_limits_requests_per_account(self) -> None:
        data = {"message": "Another question about my course."}
        with fresh_rate_window(PER_ACCOUNT.window):
            for _ in range(PER_ACCOUNT.count):
                assert self.client.post(URL, data).status_code == 302
            # Another address doesn't help: the account is counted.
            refused = self.new_client(self.bob, REMOTE_ADDR="198.51.100.20").post(URL, data)
            accepted = self.new_client(self.carol).post(URL, data)

        self.assertContains(refused, "Too many messages for now", status_code=429)
        assert accepted.status_code == 302
        assert SupportRequest.objects.filter(user=self.bob).count() == PER_ACCOUNT.count
