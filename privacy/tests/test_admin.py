"""The privacy admin: read-only history for staff, never an export's contents."""

import datetime as dt

from django.core.files.base import ContentFile
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from privacy.models import DeletionRequest, ExportRequest, PolicyAcceptance
from tests.base import LecternTestCase


class PrivacyAdminTest(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        now = timezone.now()
        self.export = ExportRequest(
            user=self.bob,
            state=ExportRequest.State.READY,
            finished_at=now,
            expires_at=now + dt.timedelta(days=7),
            size=12,
        )
        self.export.file.save("bob.zip", ContentFile(b"PK secret data"), save=False)
        self.export.save()
        self.deletion = DeletionRequest.objects.create(
            user=self.dave,
            email=self.dave.email,
            state=DeletionRequest.State.FAILED,
            erase_after=now,
            attempts=2,
            error="TimeoutError: storage did not answer",
            steps={"courses.Course": 0},
        )
        self.login(self.staff)

    def tearDown(self) -> None:
        self.export.file.delete(save=False)
        super().tearDown()

    def url(self, model: type[Model], action: str, *args: object) -> str:
        opts = model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=args)

    def test_it_lists_exports_with_their_state_for_staff(self) -> None:
        response = self.client.get(self.url(ExportRequest, "changelist"))
        self.assertContains(response, "Bob Baker")
        self.assertContains(response, "Ready")

    def test_it_never_shows_the_export_file_or_a_link_to_it(self) -> None:
        path = self.export.file.name
        assert path
        for url in (
            self.url(ExportRequest, "changelist"),
            self.url(ExportRequest, "change", self.export.pk),
        ):
            html = self.client.get(url).content.decode()
            assert path not in html
            assert self.export.file.url not in html
            assert "download" not in html.lower().replace("download_export", "")

    def test_it_shows_a_deletions_progress_and_error(self) -> None:
        response = self.client.get(self.url(DeletionRequest, "change", self.deletion.pk))
        self.assertContains(response, "TimeoutError: storage did not answer")
        self.assertContains(response, "courses.Course")

    def test_it_finds_requests_by_email(self) -> None:
        response = self.client.get(self.url(DeletionRequest, "changelist"), {"q": "dave@"})
        self.assertContains(response, f"Deletion #{self.deletion.pk}")
        response = self.client.get(self.url(ExportRequest, "changelist"), {"q": "dave@"})
        self.assertNotContains(response, f"Export #{self.export.pk}")

    def test_it_filters_by_state(self) -> None:
        url = self.url(DeletionRequest, "changelist")
        response = self.client.get(url, {"state__exact": "completed"})
        self.assertNotContains(response, f"Deletion #{self.deletion.pk}")

    def test_it_lets_no_one_add_edit_or_delete(self) -> None:
        for model, obj in (
            (ExportRequest, self.export),
            (DeletionRequest, self.deletion),
            (PolicyAcceptance, PolicyAcceptance.objects.get(user=self.bob, document="terms")),
        ):
            assert self.client.get(self.url(model, "add")).status_code == 403
            assert self.client.get(self.url(model, "delete", obj.pk)).status_code == 403
            change = self.url(model, "change", obj.pk)
            assert self.client.get(change).status_code == 200
            self.client.post(change, {"state": "completed"})
        self.deletion.refresh_from_db()
        assert self.deletion.state == DeletionRequest.State.FAILED

    def test_it_retries_a_failed_erasure_now(self) -> None:
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            response = self.client.post(
                self.url(DeletionRequest, "changelist"),
                {"action": "retry_now", "_selected_action": [self.deletion.pk]},
                follow=True,
            )
        self.assertContains(response, "Retrying 1 failed erasure(s).")
        assert len(callbacks) == 1

    def test_it_is_for_staff_only(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url(ExportRequest, "changelist"))
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]
