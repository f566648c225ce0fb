"""One-click unsubscribe (RFC 8058): no login, a signed token, GET confirms and POST applies."""

from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from courses.tests.factories import CourseFactory
from notifications import delivery
from notifications.models import CourseMute, EmailMode, NotificationPreference
from notifications.tests.kit import make
from tests.base import LecternTestCase


def mode_of(user) -> str:
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref.email_mode if pref else EmailMode.IMMEDIATE


def url_for(token: str) -> str:
    return reverse("notifications:unsubscribe", args=[token])


class UnsubscribeTests(LecternTestCase):
    def setUp(self) -> None:
        # A mail provider's POST carries no cookies and no CSRF token.
        self.provider = Client(enforce_csrf_checks=True)

    def test_it_works_from_the_emails_own_header(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            delivery.send_notification_email(make(self.bob).pk)
        header = mail.outbox[0].extra_headers["List-Unsubscribe"]
        path = header.strip("<>").split("://", 1)[1].split("/", 1)[1]
        response = self.provider.post(
            "/" + path,
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert mode_of(self.bob) == EmailMode.OFF

    def test_it_only_asks_on_get(self) -> None:
        response = self.provider.get(url_for(delivery.unsubscribe_token(self.bob)))
        self.assertContains(response, "Stop notification emails?")
        self.assertContains(response, "b••@example.com")
        assert mode_of(self.bob) == EmailMode.IMMEDIATE

    def test_it_turns_notification_email_off_on_post(self) -> None:
        response = self.provider.post(url_for(delivery.unsubscribe_token(self.bob)))
        self.assertContains(response, "You're unsubscribed")
        assert mode_of(self.bob) == EmailMode.OFF
        delivery.send_notification_email(make(self.bob).pk)
        assert mail.outbox == []

    def test_it_mutes_one_course_with_a_course_link(self) -> None:
        course = CourseFactory.create(teacher=self.alice, title="Choir")
        token = delivery.unsubscribe_token(self.bob, course.pk)
        self.assertContains(self.provider.get(url_for(token)), "Mute Choir?")
        self.assertContains(self.provider.post(url_for(token)), "Choir is muted")
        assert CourseMute.objects.filter(user=self.bob, course=course).exists()
        assert mode_of(self.bob) == EmailMode.IMMEDIATE

    def test_it_refuses_a_tampered_token(self) -> None:
        token = delivery.unsubscribe_token(self.bob)
        forged = signing.dumps({"u": self.dave.pk, "s": "all"}, salt="something else")
        value, signature = token.rsplit(":", 1)
        for bad in [token[:-2] + "xx", f"{value}:{signature[::-1]}", forged, "nonsense"]:
            assert self.provider.post(url_for(bad)).status_code == 404
        assert mode_of(self.dave) == EmailMode.IMMEDIATE
        assert mode_of(self.bob) == EmailMode.IMMEDIATE

    def test_it_refuses_a_token_for_another_person_swapped_in(self) -> None:
        bobs = delivery.unsubscribe_token(self.bob)
        daves = delivery.unsubscribe_token(self.dave)
        spliced = daves.split(":", 1)[0] + ":" + bobs.split(":", 1)[1]
        assert self.provider.post(url_for(spliced)).status_code == 404
