"""The notifications page: newest first, paginated, with an unread filter and an empty state."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from courses.tests.factories import CourseFactory
from notifications.models import Kind, Notification
from notifications.views import PAGE_SIZE
from tests.base import LecternTestCase, assert_constant_queries

URL = reverse("notifications:list")


class ListTests(LecternTestCase):
    def setUp(self) -> None:
        self.login(self.bob)

    def add(self, n: int, recipient=None, **fields) -> None:
        recipient = recipient or self.bob
        start = Notification.objects.count()
        course = CourseFactory.create(teacher=self.alice)
        Notification.objects.bulk_create(
            Notification(
                recipient=recipient,
                kind=Kind.ANNOUNCEMENT,
                title=f"Notification {start + i}",
                course=course,
                actor=self.alice,
                dedupe_key=f"list:{start + i}",
                created_at=timezone.now() - dt.timedelta(minutes=10_000 - start - i),
                **fields,
            )
            for i in range(n)
        )

    def test_it_lists_the_persons_notifications_newest_first(self) -> None:
        self.add(3)
        self.add(1, recipient=self.dave)
        response = self.client.get(URL)
        self.assertContains(response, "<h1>Notifications</h1>", html=True)
        titles = [n.title for n in response.context["page"].object_list]
        assert titles == ["Notification 2", "Notification 1", "Notification 0"]
        self.assertContains(response, "3 unread")

    def test_it_paginates(self) -> None:
        self.add(PAGE_SIZE + 2)
        response = self.client.get(URL, {"page": 2})
        assert len(response.context["page"].object_list) == 2
        self.assertContains(response, "Page 2 of 2")

    def test_it_filters_unread(self) -> None:
        self.add(2)
        self.add(1, read_at=timezone.now())
        response = self.client.get(URL, {"show": "unread"})
        assert len(response.context["page"].object_list) == 2

    def test_it_teaches_when_empty(self) -> None:
        response = self.client.get(URL)
        self.assertContains(response, "No notifications yet")
        self.assertContains(response, "You're all caught up.")
        self.assertNotContains(response, "Mark all as read")

    def test_it_makes_the_same_queries_for_10_and_1000(self) -> None:
        assert_constant_queries(self, URL, self.add, budget=12)
