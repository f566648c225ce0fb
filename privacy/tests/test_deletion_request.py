"""Delete my account: confirming, deactivating at once, and cancelling from the email."""

import time
from datetime import timedelta
from typing import Any

from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courses.models import Enrollment, WaitlistEntry
from courses.tests.factories import CourseFactory
from privacy import deletion
from privacy.models import DeletionRequest
from tests.base import PASSWORD, LecternTestCase

URL = reverse("privacy:delete_account")


class DeleteAccountTestCase(LecternTestCase):
    def post(self, **data: str) -> Any:
        return self.client.post(URL, {"confirm": "on", **data})


class RequestTests(DeleteAccountTestCase):
    def test_it_shows_what_is_erased_and_kept(self) -> None:
        self.login(self.bob)
        response = self.client.get(URL)
        assert response.status_code == 200
        text = response.content.decode()
        assert "Messages" in text
        assert "Policy acceptances" in text
        assert "24 months after it is deleted" in text
        assert "7 days later" in text

    def test_it_tells_teachers_about_their_courses_and_students(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        other = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=course, student=self.bob)
        WaitlistEntry.objects.create(course=other, student=self.dave)
        self.login(self.alice)
        text = self.client.get(URL).content.decode()
        assert "Your 2 courses will be deleted" in text
        assert "Their 2 students will be told" in text

    def test_it_requires_the_password(self) -> None:
        self.login(self.bob)
        response = self.post(password="wrong password")
        assert response.status_code == 400
        assert "That password is not right." in response.content.decode()
        self.bob.refresh_from_db()
        assert self.bob.is_active
        assert not DeletionRequest.objects.exists()
        assert self.client.get(reverse("dashboard")).status_code == 200

    def test_it_requires_the_confirmation(self) -> None:
        self.login(self.bob)
        response = self.client.post(URL, {"password": PASSWORD})
        assert response.status_code == 400
        assert "Tick the box" in response.content.decode()
        assert not DeletionRequest.objects.exists()

    def test_it_limits_wrong_passwords(self) -> None:
        self.login(self.bob)
        for _ in range(5):
            assert self.post(password="nope").status_code == 400
        assert self.post(password=PASSWORD).status_code == 429
        assert not DeletionRequest.objects.exists()

    def test_it_deactivates_and_schedules(self) -> None:
        self.login(self.bob)
        before = timezone.now()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.post(password=PASSWORD)
        self.assertRedirects(response, reverse("privacy:deletion_scheduled"))
        request = DeletionRequest.objects.get()
        assert request.user == self.bob
        assert request.state == DeletionRequest.State.PENDING
        assert (request.email, request.first_name) == ("bob@example.com", "Bob")
        assert before + timedelta(days=7) <= request.erase_after
        assert request.erase_after <= timezone.now() + timedelta(days=7)
        self.bob.refresh_from_db()
        assert not self.bob.is_active
        assert SESSION_KEY not in self.client.session
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["bob@example.com"]
        assert "/account/deletion/cancel/" in mail.outbox[0].body
        scheduled = self.client.get(reverse("privacy:deletion_scheduled"))
        assert "Your account will be deleted" in scheduled.content.decode()

    @override_settings(ACCOUNT_DELETION_COOLING_OFF_DAYS=3)
    def test_it_uses_the_configured_cooling_off(self) -> None:
        self.login(self.bob)
        self.post(password=PASSWORD)
        request = DeletionRequest.objects.get()
        assert request.erase_after - request.requested_at == timedelta(days=3)

    def test_it_ends_every_session(self) -> None:
        phone = self.new_client()
        phone.post(reverse("account_login"), {"login": "bob@example.com", "password": PASSWORD})
        assert phone.get(reverse("dashboard")).status_code == 200
        assert UserSession.objects.filter(user=self.bob).exists()
        self.login(self.bob)
        self.post(password=PASSWORD)
        assert not UserSession.objects.filter(user=self.bob).exists()
        response = phone.get(reverse("dashboard"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_it_stops_the_person_signing_in(self) -> None:
        deletion.request_deletion(user=self.bob)
        response = self.client.post(
            reverse("account_login"), {"login": "bob@example.com", "password": PASSWORD}
        )
        assert SESSION_KEY not in self.client.session
        assert response.status_code in (200, 302)
        assert reverse("dashboard") not in response.get("Location", "")

    def test_it_makes_one_request_when_asked_twice(self) -> None:
        first = deletion.request_deletion(user=self.bob)
        second = deletion.request_deletion(user=self.bob)
        assert first.pk == second.pk
        assert DeletionRequest.objects.count() == 1

    def test_it_needs_a_login(self) -> None:
        response = self.client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@override_settings(
    GOOGLE_SIGN_IN_ENABLED=True,
    SOCIALACCOUNT_PROVIDERS={
        "google": {
            **settings.SOCIALACCOUNT_PROVIDERS["google"],
            "APPS": [{"client_id": "client.example", "secret": "test-secret", "key": ""}],
        }
    },
)
class GoogleOnlyTests(DeleteAccountTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.dave.set_unusable_password()
        self.dave.save(update_fields=["password"])

    def sign_in_with_google(self, seconds_ago: float) -> None:
        session = self.client.session
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "socialaccount", "at": time.time() - seconds_ago, "provider": "google"}
        ]
        # What allauth writes beside the records, to tie them to the person.
        session["account_authentication_methods_user"] = str(self.dave.pk)
        session.save()

    def test_it_asks_for_a_fresh_google_sign_in(self) -> None:
        self.login(self.dave)
        self.sign_in_with_google(seconds_ago=3600)
        page = self.client.get(URL).content.decode()
        assert "Confirm with Google" in page
        assert reverse("google_login") in page
        assert 'name="password"' not in page
        response = self.post()
        assert response.status_code == 400
        assert not DeletionRequest.objects.exists()

    def test_it_deletes_after_a_fresh_google_sign_in(self) -> None:
        self.login(self.dave)
        self.sign_in_with_google(seconds_ago=10)
        assert "Confirm with Google" not in self.client.get(URL).content.decode()
        response = self.post()
        self.assertRedirects(response, reverse("privacy:deletion_scheduled"))
        assert DeletionRequest.objects.get().user == self.dave


class CancelTests(DeleteAccountTestCase):
    def setUp(self) -> None:
        super().setUp()
        with self.captureOnCommitCallbacks(execute=True):
            self.request = deletion.request_deletion(user=self.bob)
        self.url = reverse("privacy:deletion_cancel", args=[deletion.cancel_token(self.request)])

    def test_it_emails_a_working_link(self) -> None:
        assert self.url in mail.outbox[-1].body
        message = mail.outbox[-1]
        assert isinstance(message, EmailMultiAlternatives)
        assert self.url in str(message.alternatives[0][0])

    def test_it_asks_before_cancelling(self) -> None:
        response = self.client.get(self.url)
        assert response.status_code == 200
        assert "Cancel the deletion" in response.content.decode()
        self.request.refresh_from_db()
        assert self.request.state == DeletionRequest.State.PENDING

    def test_it_cancels(self) -> None:
        response = self.client.post(self.url)
        self.assertRedirects(response, reverse("account_login"), fetch_redirect_response=False)
        self.request.refresh_from_db()
        assert self.request.state == DeletionRequest.State.CANCELLED
        assert self.request.cancelled_at is not None
        self.bob.refresh_from_db()
        assert self.bob.is_active
        page = self.client.get(reverse("account_login")).content.decode()
        assert "Your account is back" in page
        assert self.client.login(email="bob@example.com", password=PASSWORD)

    def test_it_says_when_already_cancelled(self) -> None:
        self.client.post(self.url)
        response = self.client.post(self.url)
        assert response.status_code == 200
        assert "already cancelled" in response.content.decode()

    def test_it_refuses_a_bad_token(self) -> None:
        for token in ("nonsense", self.url.rstrip("/").rsplit("/", 1)[1] + "x"):
            url = reverse("privacy:deletion_cancel", args=[token])
            assert self.client.get(url).status_code == 404
            assert self.client.post(url).status_code == 404
        self.request.refresh_from_db()
        assert self.request.state == DeletionRequest.State.PENDING

    def test_it_refuses_once_erasure_started(self) -> None:
        for state in (DeletionRequest.State.ERASING, DeletionRequest.State.COMPLETED):
            DeletionRequest.objects.filter(pk=self.request.pk).update(state=state)
            response = self.client.post(self.url)
            assert response.status_code == 410
            assert "can no longer be" in response.content.decode()
        self.bob.refresh_from_db()
        assert not self.bob.is_active

    def test_it_refuses_a_token_of_another_purpose(self) -> None:
        from django.core import signing

        token = signing.dumps(self.request.pk, salt="something else")
        url = reverse("privacy:deletion_cancel", args=[token])
        assert self.client.get(url).status_code == 404

    def test_it_lets_a_new_request_be_made_after_cancelling(self) -> None:
        self.client.post(self.url)
        self.bob.refresh_from_db()
        again = deletion.request_deletion(user=User.objects.get(pk=self.bob.pk))
        assert again.pk != self.request.pk
        old_link = self.client.post(self.url)
        assert old_link.status_code == 200
        again.refresh_from_db()
        assert again.state == DeletionRequest.State.PENDING
