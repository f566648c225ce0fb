"""Following a notification marks it read and goes to its link, only ever on this site."""

from django.urls import reverse

from notifications.models import Kind, Notification
from tests.base import LecternTestCase


class OpenTests(LecternTestCase):
    def make(self, url: str, recipient=None) -> Notification:
        return Notification.objects.create(
            recipient=recipient or self.bob,
            kind=Kind.MESSAGE,
            title="Hi",
            url=url,
            dedupe_key=f"open:{Notification.objects.count()}",
        )

    def open(self, notification: Notification):
        return self.client.get(reverse("notifications:open", args=[notification.pk]))

    def test_it_marks_it_read_and_follows_its_link(self) -> None:
        self.login(self.bob)
        notification = self.make("/courses/choir/items/3/")
        response = self.open(notification)
        self.assertRedirects(response, "/courses/choir/items/3/", fetch_redirect_response=False)
        notification.refresh_from_db()
        assert notification.read_at is not None

    def test_it_never_leaves_the_site(self) -> None:
        self.login(self.bob)
        for url in [
            "https://evil.example/",
            "//evil.example/path",
            "javascript:alert(1)",
            "/\\evil.example",
            "",
        ]:
            response = self.open(self.make(url))
            self.assertRedirects(
                response, reverse("notifications:list"), fetch_redirect_response=False
            )

    def test_it_answers_404_for_someone_elses(self) -> None:
        self.login(self.dave)
        notification = self.make("/courses/choir/")
        assert self.open(notification).status_code == 404
        notification.refresh_from_db()
        assert notification.read_at is None
