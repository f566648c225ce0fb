"""The header's bell: the unread count in one query, none for visitors."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Kind, Notification
from tests.base import LecternTestCase


class BadgeTests(LecternTestCase):
    def add(self, n: int, **fields) -> None:
        start = Notification.objects.count()
        Notification.objects.bulk_create(
            Notification(
                recipient=self.bob,
                kind=Kind.MESSAGE,
                title="Hi",
                dedupe_key=f"b:{start + i}",
                **fields,
            )
            for i in range(n)
        )

    def test_it_shows_the_unread_count(self) -> None:
        self.add(3)
        self.add(2, read_at=timezone.now())
        self.login(self.bob)
        response = self.client.get(reverse("dashboard"))
        self.assertContains(
            response, '<span class="notif-badge" aria-hidden="true">3</span>', html=True
        )
        self.assertContains(response, "Notifications, 3 unread")

    def test_it_caps_the_number_shown(self) -> None:
        self.add(120)
        self.login(self.bob)
        self.assertContains(self.client.get(reverse("dashboard")), ">99+<")

    def test_it_shows_no_number_when_all_is_read(self) -> None:
        self.login(self.bob)
        response = self.client.get(reverse("dashboard"))
        self.assertContains(response, 'href="/notifications/"')
        self.assertNotContains(response, "notif-badge")

    def test_it_costs_one_query(self) -> None:
        self.add(3)
        self.login(self.bob)
        url = reverse("accounts:profile")
        self.client.get(url)
        with CaptureQueriesContext(connection) as queries:
            self.client.get(url)
        counts = [
            q["sql"] for q in queries.captured_queries if "notifications_notification" in q["sql"]
        ]
        assert len(counts) == 1

    def test_it_costs_nothing_for_visitors(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            self.client.get(reverse("terms"))
        assert not [q for q in queries.captured_queries if "notification" in q["sql"]]
