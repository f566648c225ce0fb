"""Download my data pages: the request form, the polling panel and the download link."""

import html
from datetime import datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from files.tests import files_kit as kit
from privacy import export
from privacy.models import ExportRequest
from tests.base import LecternTestCase

REQUEST = reverse("privacy:export_request")
STATUS = reverse("privacy:export_status")


class ExportViewTestCase(LecternTestCase, kit.TemporaryStorageMixin):
    def ready(self, user: object = None) -> ExportRequest:
        with self.captureOnCommitCallbacks(execute=True):
            made = export.request_export(user or self.bob)
        made.refresh_from_db()
        return made

    def emailed_link(self) -> str:
        body = mail.outbox[-1].body
        url = next(word for word in body.split() if "/download/" in word)
        return urlsplit(url).path


class RequestViewTests(ExportViewTestCase):
    def test_it_queues_an_export_and_goes_back_to_the_dashboard(self) -> None:
        self.login(self.bob)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(REQUEST)
        self.assertRedirects(response, reverse("privacy:dashboard"), fetch_redirect_response=False)
        made = ExportRequest.objects.get(user=self.bob)
        assert made.state == ExportRequest.State.READY
        assert len(mail.outbox) == 1

    def test_it_answers_htmx_with_the_panel_that_polls_while_preparing(self) -> None:
        self.login(self.bob)
        response = self.client.post(REQUEST, headers={"HX-Request": "true"})
        assert response.status_code == 200
        page = response.content.decode()
        assert "Preparing your data" in page
        assert f'hx-get="{STATUS}"' in page
        assert 'hx-trigger="every 3s, lectern:visible"' in page

    def test_it_says_one_is_already_being_prepared(self) -> None:
        self.login(self.bob)
        self.client.post(REQUEST)
        response = self.client.post(REQUEST, headers={"HX-Request": "true"})
        assert "already being prepared" in html.unescape(response.content.decode())
        response = self.client.post(REQUEST, follow=True)
        assert "already being prepared" in str(list(response.context["messages"]))
        assert ExportRequest.objects.filter(user=self.bob).count() == 1

    def test_it_refuses_too_many_requests_with_retry_after(self) -> None:
        self.login(self.bob)
        for _ in range(export.REQUEST_LIMIT.count):
            with self.captureOnCommitCallbacks(execute=True):
                self.client.post(REQUEST)
        response = self.client.post(REQUEST)
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 24 * 3600
        response = self.client.post(REQUEST, headers={"HX-Request": "true"})
        assert "several copies today" in html.unescape(response.content.decode())
        assert ExportRequest.objects.filter(user=self.bob).count() == export.REQUEST_LIMIT.count

    def test_it_rejects_get(self) -> None:
        self.login(self.bob)
        assert self.client.get(REQUEST).status_code == 405


class StatusViewTests(ExportViewTestCase):
    def test_it_offers_to_prepare_when_there_is_no_export(self) -> None:
        self.login(self.bob)
        page = html.unescape(self.client.get(STATUS).content.decode())
        assert "Prepare my data" in page
        assert "every 3s" not in page

    def test_it_stops_polling_and_offers_the_download_when_ready(self) -> None:
        made = self.ready()
        self.login(self.bob)
        response = self.client.get(STATUS)
        page = response.content.decode()
        assert response["Cache-Control"] == "private, no-store"
        assert "every 3s" not in page
        assert f"/settings/privacy/export/{made.pk}/download/" in page
        assert "Prepare a new copy" in page

    def test_it_shows_a_failure_with_a_way_to_try_again(self) -> None:
        made = export.request_export(self.bob)
        ExportRequest.objects.filter(pk=made.pk).update(
            state=ExportRequest.State.FAILED, error="KeyError: 'x'"
        )
        self.login(self.bob)
        page = html.unescape(self.client.get(STATUS).content.decode())
        assert "couldn't prepare your data" in page
        assert "Try again" in page
        assert "KeyError" not in page

    def test_it_shows_only_the_persons_own_exports(self) -> None:
        self.ready(self.dave)
        self.login(self.bob)
        page = html.unescape(self.client.get(STATUS).content.decode())
        assert "Prepare my data" in page
        assert "/download/" not in page


class DownloadViewTests(ExportViewTestCase):
    def test_it_streams_the_zip_to_its_owner(self) -> None:
        made = self.ready()
        self.login(self.bob)
        response = self.client.get(self.emailed_link())
        assert response.status_code == 200
        day = timezone.localdate(made.finished_at).isoformat()
        assert response["Content-Disposition"] == f'attachment; filename="lectern-data-{day}.zip"'
        assert response["Cache-Control"] == "private, no-store"
        assert response["Content-Type"] == "application/zip"
        assert b"".join(response.streaming_content)[:2] == b"PK"  # type: ignore[attr-defined]

    def test_it_sends_a_visitor_to_log_in_first(self) -> None:
        self.ready()
        link = self.emailed_link()
        response = self.client.get(link)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_it_is_not_found_for_anyone_else(self) -> None:
        self.ready()
        link = self.emailed_link()
        self.login(self.dave)
        response = self.client.get(link)
        assert response.status_code == 404
        assert "doesn't work" in html.unescape(response.content.decode())

    def test_it_refuses_a_bad_token_or_another_exports_token(self) -> None:
        first = self.ready()
        ExportRequest.objects.filter(pk=first.pk).update(state=ExportRequest.State.FAILED)
        second = self.ready()
        self.login(self.bob)
        for token in ("nonsense", export.download_token(first), export.download_token(second)[:-2]):
            url = reverse("privacy:export_download", args=[second.pk, token])
            assert self.client.get(url).status_code == 404, token

    def test_it_says_an_expired_link_is_gone(self) -> None:
        made = self.ready()
        self.login(self.bob)
        old = timezone.now() - timedelta(days=8)
        with mock_now(old):
            token = export.download_token(made)
        response = self.client.get(reverse("privacy:export_download", args=[made.pk, token]))
        assert response.status_code == 410
        assert "expired" in response.content.decode()

    def test_it_says_gone_once_the_file_has_expired(self) -> None:
        made = self.ready()
        link = self.emailed_link()
        ExportRequest.objects.filter(pk=made.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        self.login(self.bob)
        assert self.client.get(link).status_code == 410

    def test_it_refuses_an_export_that_is_not_ready(self) -> None:
        made = export.request_export(self.bob)
        self.login(self.bob)
        url = reverse("privacy:export_download", args=[made.pk, export.download_token(made)])
        response = self.client.get(url)
        assert response.status_code == 404
        assert "isn't ready" in html.unescape(response.content.decode())


def mock_now(at: datetime) -> Any:
    return mock.patch("django.core.signing.time.time", return_value=at.timestamp())
