"""Contact us: anyone writes to the team; the request is stored and emailed to SUPPORT_EMAIL."""

from email.utils import getaddresses

from django.core import mail
from django.test import override_settings
from django.urls import reverse

from outbox.models import OutboundEmail
from outbox.tests.kit import mail_down, run_sweep_later
from support.models import SupportRequest
from support.views import PER_ADDRESS
from tests.base import LecternTestCase, fresh_rate_window

URL = reverse("support:contact")
SUPPORT = "help@lectern.example"


def details(**changes: str) -> dict[str, str]:
    return {
        "name": "Zoë Marsh",
        "email": "zoe@Example.ORG",
        "category": "billing",
        "message": "I was charged twice for the pottery course.\nCan you check?",
        "website": "",
        **changes,
    }


@override_settings(SUPPORT_EMAIL=SUPPORT)
class ContactTests(LecternTestCase):
    def test_it_shows_the_form_with_a_hidden_trap(self) -> None:
        response = self.client.get(URL)

        self.assertContains(response, "Contact us")
        self.assertContains(response, 'class="support-trap" aria-hidden="true"')
        self.assertContains(response, 'name="website"')
        self.assertContains(response, "css/support.css")

    def test_it_preselects_a_topic_from_the_link(self) -> None:
        response = self.client.get(URL, {"topic": "privacy"})

        assert response.context["form"]["category"].value() == "privacy"

    def test_it_stores_the_request_and_emails_the_team(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(URL, details())

        self.assertRedirects(response, reverse("support:sent"))
        request = SupportRequest.objects.get()
        assert (request.user, request.name, request.email) == (None, "Zoë Marsh", "zoe@example.org")
        assert request.category == "billing"
        assert request.status == SupportRequest.Status.OPEN
        [email] = mail.outbox
        assert email.to == [SUPPORT]
        assert getaddresses([str(email.message()["Reply-To"])]) == [
            ("Zoë Marsh", "zoe@example.org")
        ]
        assert f"Support request #{request.pk}" in email.subject
        assert "Billing and payments" in email.subject
        assert "I was charged twice for the pottery course." in email.body
        assert "(not signed in)" in email.body
        assert f"/admin/support/supportrequest/{request.pk}/change/" in email.body

    def test_it_loses_nothing_when_the_mail_server_is_down(self) -> None:
        with mail_down(), self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(URL, details())

        self.assertRedirects(response, reverse("support:sent"))
        request = SupportRequest.objects.get()
        queued = OutboundEmail.objects.get()
        assert (queued.to_email, queued.state) == (SUPPORT, OutboundEmail.State.PENDING)
        assert queued.key == f"support-request:{request.pk}"
        assert not mail.outbox

        run_sweep_later()

        [email] = mail.outbox
        assert email.to == [SUPPORT]
        assert "I was charged twice" in email.body

    def test_it_files_a_request_without_a_topic_under_other(self) -> None:
        self.client.post(URL, details(category=""))

        assert SupportRequest.objects.get().category == SupportRequest.Category.OTHER

    def test_it_thanks_the_person(self) -> None:
        response = self.client.get(reverse("support:sent"))

        self.assertContains(response, "Thanks, your message is sent")

    def test_it_says_what_is_missing(self) -> None:
        response = self.client.post(URL, details(name=" ", email="zoe@", message="Hi"))

        assert response.status_code == 400
        self.assertContains(response, "Tell us your name.", status_code=400)
        self.assertContains(response, "Enter an email address like", status_code=400)
        self.assertContains(response, "Tell us a little more", status_code=400)
        self.assertContains(response, "zoe@", status_code=400)  # what was typed is kept
        assert not SupportRequest.objects.exists()
        assert not mail.outbox

    def test_it_refuses_an_unknown_topic_and_a_long_message(self) -> None:
        response = self.client.post(URL, details(category="lottery", message="x" * 5001))

        self.assertContains(response, "Select a valid choice", status_code=400)
        self.assertContains(response, "Keep it under 5000 characters", status_code=400)
        assert not SupportRequest.objects.exists()

    def test_it_refuses_control_characters_in_the_name(self) -> None:
        response = self.client.post(URL, details(name="Zoë\x07Bcc: x@example.com"))

        self.assertContains(response, "Use letters, numbers and punctuation", status_code=400)

    def test_it_thanks_a_bot_and_keeps_nothing(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(URL, details(website="https://cheap-pills.example"))

        self.assertRedirects(response, reverse("support:sent"))
        assert not SupportRequest.objects.exists()
        assert not OutboundEmail.objects.exists()
        assert not mail.outbox

    def test_it_thanks_a_bot_even_when_the_rest_is_nonsense(self) -> None:
        response = self.client.post(URL, {"website": "x", "email": "not-an-address"})

        self.assertRedirects(response, reverse("support:sent"))
        assert not SupportRequest.objects.exists()

    def test_it_sends_signed_in_people_to_the_help_form(self) -> None:
        self.login(self.bob)

        response = self.client.get(URL, {"topic": "courses"})

        self.assertRedirects(response, reverse("support:help") + "?topic=courses")


@override_settings(SUPPORT_EMAIL=SUPPORT)
class ContactLimitTests(LecternTestCase):
    def test_it_limits_requests_from_one_address(self) -> None:
        with fresh_rate_window(PER_ADDRESS.window):
            for n in range(PER_ADDRESS.count):
                response = self.client.post(URL, details(email=f"person{n}@example.org"))
                assert response.status_code == 302
            refused = self.client.post(URL, details(email="another@example.org"))

        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 3600
        self.assertContains(refused, "Too many messages for now", status_code=429)
        self.assertContains(refused, "Try again in", status_code=429)
        assert SupportRequest.objects.count() == PER_ADDRESS.count

    def test_it_limits_requests_for_one_email_from_many_addresses(self) -> None:
        with fresh_rate_window(3600):
            for n in range(5):
                client = self.new_client(REMOTE_ADDR=f"203.0.113.{n + 1}")
                email = "ZOE@example.org" if n % 2 else "zoe@example.org"
                assert client.post(URL, details(email=email)).status_code == 302
            refused = self.new_client(REMOTE_ADDR="203.0.113.99").post(URL, details())

        assert refused.status_code == 429
        assert SupportRequest.objects.count() == 5

    def test_it_counts_bots_against_their_address(self) -> None:
        with fresh_rate_window(PER_ADDRESS.window):
            for _ in range(PER_ADDRESS.count):
                self.client.post(URL, details(website="spam"))
            refused = self.client.post(URL, details())

        assert refused.status_code == 429
        assert not SupportRequest.objects.exists()

    def test_it_does_not_count_a_form_sent_back_for_mistakes(self) -> None:
        with fresh_rate_window(PER_ADDRESS.window):
            for _ in range(PER_ADDRESS.count + 2):
                assert self.client.post(URL, details(message="short")).status_code == 400
            accepted = self.client.post(URL, details())

        assert accepted.status_code == 302

    def test_it_takes_requests_again_in_the_next_window(self) -> None:
        with fresh_rate_window(PER_ADDRESS.window) as clock:
            for n in range(PER_ADDRESS.count):
                self.client.post(URL, details(email=f"p{n}@example.org"))
            assert self.client.post(URL, details()).status_code == 429
            clock.shift(PER_ADDRESS.window)
            accepted = self.client.post(URL, details())

        assert accepted.status_code == 302


class MethodTests(LecternTestCase):
    def test_it_answers_only_the_methods_each_page_takes(self) -> None:
        signed_in = self.new_client(self.bob)
        for client, url in [
            (self.client, URL),
            (self.client, reverse("support:sent")),
            (signed_in, reverse("support:help")),
        ]:
            for method in ("put", "delete", "patch"):
                assert getattr(client, method)(url).status_code == 405, (method, url)
        assert self.client.post(reverse("support:sent")).status_code == 405
