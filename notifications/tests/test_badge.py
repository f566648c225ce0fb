"""The header's bell: the unread count kept in the shared cache, one query without it."""

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.testing import requires_redis
from notifications import services
from notifications.models import Kind, Notification
from tests.base import LecternTestCase

LOCAL_MEMORY = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"},
}


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

    def notification_queries(self) -> list[str]:
        """Load a page twice as bob; return the SQL of the second that reads notifications."""
        url = reverse("accounts:profile")
        self.client.get(url)
        with CaptureQueriesContext(connection) as queries:
            self.client.get(url)
        return [
            q["sql"] for q in queries.captured_queries if "notifications_notification" in q["sql"]
        ]

    @override_settings(CACHES=LOCAL_MEMORY)
    def test_it_costs_one_query_without_a_shared_cache(self) -> None:
        self.add(3)
        self.login(self.bob)
        assert len(self.notification_queries()) == 1

    @requires_redis
    def test_it_costs_no_query_once_the_count_is_kept(self) -> None:
        self.add(3)
        self.login(self.bob)
        assert self.notification_queries() == []

    def badge(self) -> str:
        return str(self.client.get(reverse("dashboard")).context["notification_badge"].label)

    def test_it_counts_a_new_notification_at_once(self) -> None:
        self.add(3)
        self.login(self.bob)
        assert self.badge() == "3"

        services.notify(
            recipient=self.bob, kind=Kind.MESSAGE, title="New", dedupe_key="new", email=False
        )

        assert self.badge() == "4"

    def test_it_counts_a_notification_read_at_once(self) -> None:
        self.add(2)
        self.login(self.bob)
        assert self.badge() == "2"

        services.mark_read(notification=Notification.objects.filter(recipient=self.bob)[0])
        assert self.badge() == "1"

        services.mark_all_read(user=self.bob)
        assert self.badge() == "0"

    def test_it_counts_from_the_database_while_a_change_commits(self) -> None:
        self.add(1)
        self.login(self.bob)
        assert self.badge() == "1"

        with self.captureOnCommitCallbacks(execute=True):
            services.notify(
                recipient=self.bob, kind=Kind.MESSAGE, title="New", dedupe_key="new", email=False
            )

        assert self.badge() == "2"
        self.add(1)  # bulk_create tells no one: only a count made afresh sees it
        assert self.badge() == "3"

    def test_it_costs_nothing_for_visitors(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            self.client.get(reverse("terms"))
        assert not [q for q in queries.captured_queries if "notification" in q["sql"]]
