"""Settings → Privacy: every category held about the person, why, since when and how long."""

import datetime as dt
import itertools

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging import services as messaging_services
from messaging.models import Message
from notifications.models import Kind, Notification
from privacy.models import ExportRequest
from privacy.registry import registry
from tests.base import LecternTestCase, assert_constant_queries

URL = reverse("privacy:dashboard")
_serial = itertools.count()


class DashboardTestCase(LecternTestCase):
    def add_notifications(self, n: int, *, created_at: dt.datetime | None = None) -> None:
        Notification.objects.bulk_create(
            Notification(
                recipient=self.bob,
                kind=Kind.ANNOUNCEMENT,
                title="Week 1 notes are up",
                dedupe_key=f"dashboard-{next(_serial)}",
                created_at=created_at or timezone.now(),
            )
            for _ in range(n)
        )

    def add_messages(self, n: int) -> None:
        channel = messaging_services.get_or_create_channel(course=self.course)
        Message.objects.bulk_create(
            Message(conversation=channel, author=self.bob, body="hi", body_html="<p>hi</p>")
            for _ in range(n)
        )

    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, title="Watercolour basics")
        EnrollmentFactory.create(course=self.course, student=self.bob)


class DashboardPageTest(DashboardTestCase):
    def test_it_requires_login(self) -> None:
        response = self.client.get(URL)
        self.assertRedirects(response, f"{reverse('account_login')}?next={URL}")

    def test_it_lists_each_category_held_with_its_purpose_basis_and_retention(self) -> None:
        self.add_notifications(3)
        self.login(self.bob)
        response = self.client.get(URL)
        assert response.status_code == 200
        held = {c.name: c for c in response.context["held"]}
        assert held["Notifications"].count == 3
        assert held["Enrolments"].count == 1
        notifications = registry.entries["notifications.Notification"]
        html = response.content.decode()
        for text in (
            notifications.category,
            notifications.purpose,
            notifications.retention.description,
            notifications.basis.explanation,
        ):
            assert escape(text) in html

    def test_it_says_since_when_from_the_oldest_row(self) -> None:
        oldest = timezone.now() - dt.timedelta(days=40)
        self.add_notifications(1, created_at=oldest)
        self.add_notifications(2)
        self.login(self.bob)
        held = {c.name: c for c in self.client.get(URL).context["held"]}
        assert held["Notifications"].since == oldest
        self.assertContains(self.client.get(URL), f"since {oldest:%-d %b %Y}")

    def test_it_counts_only_the_signed_in_persons_rows(self) -> None:
        self.add_notifications(5)
        self.login(self.dave)
        response = self.client.get(URL)
        held = {c.name for c in response.context["held"]}
        assert "Notifications" not in held
        assert "Enrolments" not in held
        none_held = {c.name for c in response.context["none_held"]}
        assert "Notifications" in none_held
        self.assertContains(response, "none held")

    def test_it_covers_every_category_in_the_registry(self) -> None:
        self.login(self.bob)
        response = self.client.get(URL)
        shown = {c.name for c in response.context["held"] + response.context["none_held"]}
        assert shown == {entry.category for entry in registry}

    def test_it_runs_as_many_queries_for_1000_notifications_as_for_10(self) -> None:
        self.login(self.bob)
        budget = len(registry.entries) + 15
        assert_constant_queries(self, URL, self.add_notifications, budget=budget)

    def test_it_runs_as_many_queries_for_1000_messages_as_for_10(self) -> None:
        self.login(self.bob)
        budget = len(registry.entries) + 15
        assert_constant_queries(self, URL, self.add_messages, budget=budget)

    def test_it_links_to_deletion_and_shows_the_export_panel(self) -> None:
        ExportRequest.objects.create(user=self.bob, state=ExportRequest.State.FAILED)
        latest = ExportRequest.objects.create(user=self.bob)
        ExportRequest.objects.create(user=self.dave)
        self.login(self.bob)
        response = self.client.get(URL)
        self.assertContains(response, reverse("privacy:delete_account"))
        assert response.context["export"] == latest
        assert len(response.context["exports"]) == 2
        self.assertTemplateUsed(response, "privacy/_export_panel.html")

    def test_it_is_in_the_settings_navigation(self) -> None:
        self.login(self.bob)
        response = self.client.get(reverse("accounts:profile"))
        self.assertContains(response, f'href="{URL}"')

    def test_it_rejects_post(self) -> None:
        self.login(self.bob)
        assert self.client.post(URL).status_code == 405
