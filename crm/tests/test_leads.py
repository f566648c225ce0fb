"""“Tell me when it opens”: the storefront button, the stored request, unsubscribing."""

from datetime import timedelta
from typing import Any

from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from courses.models import Course, Enrollment
from courses.tests.factories import CourseFactory
from crm import opening
from crm.models import Contact, Lead
from privacy.registry import registry
from tests.base import LecternTestCase, fresh_rate_window

BUTTON = "Tell me when it opens"


class LeadTests(LecternTestCase):
    full: Course

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.full = CourseFactory.create(teacher=cls.alice, capacity=1, title="Raku firing")
        Enrollment.objects.create(course=cls.full, student=cls.dave)

    def setUp(self) -> None:
        cache.clear()

    def ask(self, **data: str) -> Any:
        return self.client.post(
            reverse("crm:notify_me", args=[self.full.slug]),
            {"email": "Lena@Example.org", "name": "Lena", "consent": "on", **data},
        )

    def test_it_offers_the_button_on_a_full_course(self) -> None:
        response = self.client.get(self.full.get_absolute_url())
        self.assertContains(response, BUTTON)
        self.assertContains(response, reverse("crm:notify_me", args=[self.full.slug]))

    def test_it_offers_the_button_on_a_course_not_open_yet(self) -> None:
        # A paid course whose teacher can't take payments yet isn't open for enrolment.
        course = CourseFactory.create(teacher=self.alice, paid=True)
        self.assertContains(self.client.get(course.get_absolute_url()), BUTTON)

    def test_it_hides_the_button_on_an_open_course_and_for_the_teacher(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        self.assertNotContains(self.client.get(course.get_absolute_url()), BUTTON)
        self.login(self.alice)
        self.assertNotContains(self.client.get(self.full.get_absolute_url()), BUTTON)

    def test_it_stores_a_lead_once_and_lists_them(self) -> None:
        response = self.ask()
        self.assertContains(response, "We'll tell you when it opens")
        self.ask()
        lead = Lead.objects.get()
        assert (lead.email, lead.name, lead.teacher) == ("lena@example.org", "Lena", self.alice)
        assert lead.consent_at is not None
        contact = Contact.objects.get(teacher=self.alice, email="lena@example.org")
        assert contact.status == Contact.Status.LEAD

    def test_it_needs_consent_and_a_valid_address(self) -> None:
        assert self.ask(consent="").status_code == 400
        assert self.ask(email="nope").status_code == 400
        assert not Lead.objects.exists()

    def test_it_keeps_nothing_a_bot_sends(self) -> None:
        response = self.ask(website="http://spam.example")
        assert response.status_code == 200
        assert not Lead.objects.exists()

    def test_it_limits_how_often_one_address_may_ask(self) -> None:
        with fresh_rate_window(3600):
            for n in range(5):
                assert self.ask(email=f"p{n}@example.org").status_code == 200
            assert self.ask(email="p6@example.org").status_code == 429
        assert Lead.objects.count() == 5

    def test_it_refuses_an_open_course(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        response = self.client.post(
            reverse("crm:notify_me", args=[course.slug]),
            {"email": "a@example.org", "consent": "on"},
        )
        self.assertContains(response, "This course is open")
        assert not Lead.objects.exists()

    def test_it_forgets_a_lead_who_unsubscribes(self) -> None:
        self.ask()
        lead = Lead.objects.get()
        url = reverse("crm:unsubscribe", args=[lead.token])
        self.assertContains(self.client.get(url), "Forget my request")
        self.assertContains(self.client.post(url), "you're forgotten")
        assert not Lead.objects.exists()
        assert not Contact.objects.filter(email="lena@example.org").exists()
        self.login(self.alice)
        self.assertNotContains(self.client.get(reverse("crm:list")), "lena@example.org")

    def test_it_answers_404_for_a_token_no_link_could_hold(self) -> None:
        for token in ("%00", "a%00b", "%ED%A0%80", "not%20a%20token"):
            for send in (self.client.get, self.client.post):
                response = send(f"/opening-emails/{token}/unsubscribe/")
                assert response.status_code == 404, (token, send)

    def test_it_keeps_a_student_who_was_also_a_lead(self) -> None:
        self.client.post(
            reverse("crm:notify_me", args=[self.full.slug]),
            {"email": "bob@example.com", "consent": "on"},
        )
        other = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=other, student=self.bob)
        lead = Lead.objects.get()
        self.client.post(reverse("crm:unsubscribe", args=[lead.token]))
        contact = Contact.objects.get(teacher=self.alice, email="bob@example.com")
        assert contact.status == Contact.Status.STUDENT


class OpeningTests(LecternTestCase):
    def test_it_tells_each_lead_once_when_a_seat_frees(self) -> None:
        course = CourseFactory.create(teacher=self.alice, capacity=1, title="Raku firing")
        seat = Enrollment.objects.create(course=course, student=self.dave)
        lead = Lead.objects.create(
            course=course, teacher=self.alice, email="lena@example.org", consent_at=timezone.now()
        )
        with self.captureOnCommitCallbacks(execute=True):
            assert opening.tell_leads() == 0  # still full
        seat.delete()
        with self.captureOnCommitCallbacks(execute=True):
            assert opening.tell_leads() == 1
            assert opening.tell_leads() == 0
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["lena@example.org"]
        assert message.subject == "Raku firing is open"
        assert lead.token in message.extra_headers["List-Unsubscribe"]
        lead.refresh_from_db()
        assert lead.notified_at is not None

    def test_it_deletes_leads_30_days_after_telling_them(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        told = Lead.objects.create(
            course=course,
            teacher=self.alice,
            email="told@example.org",
            consent_at=timezone.now(),
            notified_at=timezone.now() - timedelta(days=31),
        )
        Lead.objects.create(
            course=course, teacher=self.alice, email="new@example.org", consent_at=timezone.now()
        )
        expired = registry.entries["crm.Lead"].retention.expired
        assert expired is not None
        assert list(expired()) == [told]
