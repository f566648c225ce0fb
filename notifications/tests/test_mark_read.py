"""Marking one notification read, or all of them, by POST."""

from django.urls import reverse
from django.utils import timezone

from notifications.models import EmailState, Kind, Notification
from tests.base import LecternTestCase


class MarkReadTests(LecternTestCase):
    def make(self, recipient=None, **fields) -> Notification:
        return Notification.objects.create(
            recipient=recipient or self.bob,
            kind=Kind.ANNOUNCEMENT,
            title="New",
            dedupe_key=f"read:{Notification.objects.count()}",
            **fields,
        )

    def test_it_marks_one_read_and_returns_to_the_list(self) -> None:
        self.login(self.bob)
        first, second = self.make(), self.make()
        response = self.client.post(
            reverse("notifications:mark_read", args=[first.pk]),
            {"next": "/notifications/?page=2"},
        )
        self.assertRedirects(response, "/notifications/?page=2", fetch_redirect_response=False)
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.read_at is not None
        assert second.read_at is None

    def test_it_cancels_an_email_still_waiting(self) -> None:
        self.login(self.bob)
        waiting = self.make(email_state=EmailState.DIGEST)
        self.client.post(reverse("notifications:mark_read", args=[waiting.pk]))
        waiting.refresh_from_db()
        assert waiting.email_state == EmailState.NONE

    def test_it_answers_404_for_someone_elses(self) -> None:
        self.login(self.dave)
        notification = self.make()
        response = self.client.post(reverse("notifications:mark_read", args=[notification.pk]))
        assert response.status_code == 404

    def test_it_marks_all_of_the_persons_own_read(self) -> None:
        self.login(self.bob)
        self.make(), self.make(), self.make(read_at=timezone.now())
        theirs = self.make(recipient=self.dave)
        response = self.client.post(reverse("notifications:mark_all_read"), follow=True)
        self.assertContains(response, "Marked 2 notifications as read.")
        assert not Notification.objects.filter(recipient=self.bob, read_at__isnull=True).exists()
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_it_refuses_get(self) -> None:
        self.login(self.bob)
        assert self.client.get(reverse("notifications:mark_all_read")).status_code == 405

    def test_it_leaves_it_unread_when_the_form_cannot_be_read(self) -> None:
        self.login(self.bob)
        notification = self.make()
        response = self.client.post(
            reverse("notifications:mark_read", args=[notification.pk]),
            b"whatever",
            content_type="multipart/form-data; boundary=",
        )
        assert response.status_code == 400
        notification.refresh_from_db()
        assert notification.read_at is None
