"""Visitors registering with a name and an email, and the invitation link they receive."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courses.models import Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from courses.views.enrolment import GUEST_REGISTRATIONS
from tests.base import PASSWORD, LecternTestCase

NEW_PASSWORD = "a fresh and long passphrase 42"


def invitation_path(message: EmailMessage) -> str:
    """Return the path (and query) of the invitation link in an email."""
    found = re.search(r"https?://\S+/join/\S+", str(message.body))
    assert found is not None, message.body
    parts = urlsplit(found.group(0))
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def main_content(response) -> str:
    """Return the page's <main> element: the rest differs by per-request tokens."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


class GuestRegistrationTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="watercolour", capacity=10)
        self.url = reverse("courses:register", args=["watercolour"])

    def register(self, **data: str):
        fields = {"first_name": "Gina", "last_name": "Guest", "email": "gina@example.org"}
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, {**fields, **data})

    def test_it_creates_an_unverified_account_holds_a_seat_and_emails_an_invitation(self) -> None:
        response = self.register()
        self.assertContains(response, "Check your inbox")
        gina = User.objects.get(email="gina@example.org")
        assert (gina.first_name, gina.last_name) == ("Gina", "Guest")
        assert not gina.has_usable_password()
        assert gina.is_student
        assert not EmailAddress.objects.get(user=gina).verified
        hold = Enrollment.objects.get(course=self.course, student=gina)
        assert (hold.status, hold.hold_reason) == ("held", "guest")
        assert hold.hold_expires_at is not None
        assert hold.hold_expires_at - timezone.now() > timedelta(hours=47)
        # The teacher is told of the new student by a notification email; the rest are gina's.
        outbox = [m for m in mail.outbox if m.to != [self.course.teacher.email]]
        assert len(outbox) == 1
        assert outbox[0].to == ["gina@example.org"]
        assert "choose your password" in outbox[0].subject
        assert "held" in outbox[0].subject
        assert "/join/" in outbox[0].body
        message = outbox[0]
        assert isinstance(message, EmailMultiAlternatives)
        html = str(message.alternatives[0][0])
        assert "Choose a password" in html

    def test_it_does_not_log_the_visitor_in(self) -> None:
        self.register()
        assert "_auth_user_id" not in self.client.session
        response = self.client.get(reverse("courses:my_courses"))
        assert response.status_code == 302

    def test_it_answers_the_same_page_for_an_address_with_an_account(self) -> None:
        new = self.register(email="someone.new@example.org")
        mail.outbox.clear()
        existing = self.register(email="bob@example.com")
        assert existing.status_code == new.status_code
        assert main_content(existing).replace("bob@example.com", "X") == main_content(new).replace(
            "someone.new@example.org", "X"
        )

    def test_it_emails_an_existing_account_to_log_in_and_changes_nothing(self) -> None:
        self.register(email="BOB@example.com", first_name="Mallory")
        assert not Enrollment.objects.filter(student=self.bob).exists()
        self.bob.refresh_from_db()
        assert self.bob.first_name == "Bob"
        assert self.bob.check_password(PASSWORD)
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["bob@example.com"]
        assert "Log in to finish enrolling" in message.subject
        assert reverse("account_login") in message.body
        assert "/join/" not in message.body

    def test_it_sends_a_new_invitation_to_an_address_never_taken_up(self) -> None:
        self.register()
        mail.outbox.clear()
        self.register(email="gina@example.org")
        assert User.objects.filter(email="gina@example.org").count() == 1
        assert "/join/" in mail.outbox[0].body

    def test_it_refuses_throwaway_addresses(self) -> None:
        response = self.register(email="someone@mailinator.com")
        self.assertContains(response, "throwaway-mail", status_code=400)
        assert not User.objects.filter(email="someone@mailinator.com").exists()
        assert mail.outbox == []

    def test_it_keeps_what_was_typed_when_the_form_has_errors(self) -> None:
        response = self.register(email="not-an-email")
        self.assertContains(response, 'value="Gina"', status_code=400)
        self.assertContains(response, 'value="not-an-email"', status_code=400)

    @override_settings(COUNTRY_HEADER="CF-IPCountry", BLOCKED_SIGNUP_COUNTRIES=["RU"])
    def test_it_refuses_blocked_countries(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                self.url,
                {"first_name": "G", "last_name": "G", "email": "g@example.org"},
                HTTP_CF_IPCOUNTRY="RU",
            )
        assert response.status_code == 403
        assert not User.objects.filter(email="g@example.org").exists()

    def test_it_limits_registrations_per_address(self) -> None:
        for n in range(GUEST_REGISTRATIONS.count):
            assert self.register(email=f"guest{n}@example.org").status_code == 200
        response = self.register(email="one.too.many@example.org")
        assert response.status_code == 429
        assert "Retry-After" in response
        assert not User.objects.filter(email="one.too.many@example.org").exists()

    @override_settings(
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        TRUSTED_PROXY_COUNT=0,
        ALLAUTH_TRUSTED_PROXY_COUNT=0,
    )
    def test_it_limits_registrations_whatever_forwarded_for_says(self) -> None:
        statuses = [
            self.client.post(
                self.url,
                {"first_name": "G", "last_name": "G", "email": f"guest{n}@example.org"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            ).status_code
            for n in range(GUEST_REGISTRATIONS.count + 3)
        ]

        assert statuses == [200] * GUEST_REGISTRATIONS.count + [429] * 3

    @override_settings(TRUSTED_PROXY_COUNT=1, ALLAUTH_TRUSTED_PROXY_COUNT=1)
    def test_it_limits_registrations_per_address_our_proxy_saw(self) -> None:
        def register_via_proxy(n: int, seen: str) -> int:
            return self.client.post(
                self.url,
                {"first_name": "G", "last_name": "G", "email": f"guest{n}@example.org"},
                headers={"X-Forwarded-For": f"198.51.100.{n}, {seen}"},
            ).status_code

        statuses = [register_via_proxy(n, "203.0.113.5") for n in range(GUEST_REGISTRATIONS.count)]
        assert statuses == [200] * GUEST_REGISTRATIONS.count
        assert register_via_proxy(90, "203.0.113.5") == 429
        assert register_via_proxy(91, "203.0.113.6") == 200

    def test_it_refuses_a_paid_course(self) -> None:
        CourseFactory.create(teacher=self.alice, paid=True, slug="paid")
        self.client.post(reverse("courses:register", args=["paid"]))
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("courses:register", args=["paid"]),
                {"first_name": "G", "last_name": "G", "email": "g@example.org"},
            )
        self.assertContains(response, "open for enrolment yet", status_code=400)
        assert not User.objects.filter(email="g@example.org").exists()

    def test_it_refuses_a_full_course_without_keeping_the_account(self) -> None:
        full = CourseFactory.create(teacher=self.alice, capacity=1, slug="small")
        EnrollmentFactory.create(course=full)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("courses:register", args=["small"]),
                {"first_name": "G", "last_name": "G", "email": "g@example.org"},
            )
        self.assertContains(response, "This course is full", status_code=400)
        assert not User.objects.filter(email="g@example.org").exists()
        assert mail.outbox == []

    def test_it_hides_drafts(self) -> None:
        CourseFactory.create(teacher=self.alice, draft=True, slug="draft")
        assert self.client.get(reverse("courses:register", args=["draft"])).status_code == 404

    def test_it_sends_signed_in_people_to_one_click_enrolment(self) -> None:
        self.login(self.bob)
        self.assertRedirects(
            self.client.post(self.url, {"email": "x@example.org"}),
            reverse("courses:enroll", args=["watercolour"]),
        )


class InvitationLinkTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="watercolour")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("courses:register", args=["watercolour"]),
                {"first_name": "Gina", "last_name": "Guest", "email": "gina@example.org"},
            )
        self.link = invitation_path(mail.outbox[0])
        self.gina = User.objects.get(email="gina@example.org")

    def follow_and_choose(self, password: str = NEW_PASSWORD):
        page = self.client.get(self.link, follow=True)
        self.assertContains(page, "Choose a password")
        form_url = page.redirect_chain[-1][0]
        return self.client.post(form_url, {"password1": password, "password2": password})

    def test_it_sets_the_password_verifies_the_address_and_opens_the_course(self) -> None:
        response = self.follow_and_choose()
        self.assertRedirects(
            response, reverse("courses:course", args=["watercolour"]), target_status_code=302
        )
        self.gina.refresh_from_db()
        assert self.gina.check_password(NEW_PASSWORD)
        assert EmailAddress.objects.get(user=self.gina).verified
        assert int(self.client.session["_auth_user_id"]) == self.gina.pk
        enrollment = Enrollment.objects.get(course=self.course, student=self.gina)
        assert (enrollment.status, enrollment.hold_expires_at) == ("active", None)

    def test_it_lets_the_person_log_in_with_the_new_password_afterwards(self) -> None:
        self.follow_and_choose()
        fresh = self.new_client()
        response = fresh.post(
            reverse("account_login"), {"login": "gina@example.org", "password": NEW_PASSWORD}
        )
        assert response.status_code == 302
        assert int(fresh.session["_auth_user_id"]) == self.gina.pk
        # First the current policies, then the course.
        assert reverse("privacy:accept") in fresh.get(reverse("dashboard"))["Location"]

    def test_it_moves_the_key_out_of_the_address_bar(self) -> None:
        response = self.client.get(self.link)
        assert response.status_code == 302
        assert "/set-password/" in response["Location"]
        assert self.link.split("/")[3] not in response["Location"]

    def test_it_works_only_once(self) -> None:
        self.follow_and_choose()
        self.client.logout()
        response = self.client.get(self.link)
        self.assertContains(response, "This link has expired", status_code=400)

    def test_it_refuses_a_tampered_key(self) -> None:
        tampered = re.sub(r"/join/([^/]+)/([^/]+)/", r"/join/\1/\2x/", self.link)
        self.assertContains(self.client.get(tampered), "has expired", status_code=400)

    def test_it_refuses_a_link_whose_account_id_is_not_base_36(self) -> None:
        key = self.link.split("/")[3]
        for uid in ("%00", "a%00b", "%C3%A9", "-1"):
            response = self.client.get(f"/join/{uid}/{key}/")
            self.assertContains(response, "has expired", status_code=400)
        self.client.get(self.link)  # the key now sits in the session
        response = self.client.get("/join/%00/set-password/")
        self.assertContains(response, "has expired", status_code=400)

    def test_it_refuses_a_weak_password_and_keeps_the_link_usable(self) -> None:
        response = self.follow_and_choose(password="123")
        assert response.status_code == 400
        self.gina.refresh_from_db()
        assert not self.gina.has_usable_password()
        assert self.follow_and_choose().status_code == 302

    def test_it_ignores_a_next_address_on_another_site(self) -> None:
        page = self.client.get(self.link, follow=True)
        response = self.client.post(
            page.redirect_chain[-1][0].split("?")[0],
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "next": "https://evil.test/"},
        )
        assert response["Location"] == reverse("courses:my_courses")

    def test_it_refuses_a_link_for_an_account_already_in_use(self) -> None:
        from allauth.account.forms import default_token_generator
        from allauth.account.utils import user_pk_to_url_str

        key = default_token_generator.make_token(self.bob)
        url = reverse(
            "courses:accept_invite",
            kwargs={"uidb36": user_pk_to_url_str(self.bob), "key": key},
        )
        self.assertContains(self.client.get(url), "has expired", status_code=400)
