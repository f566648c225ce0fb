"""Download my data: asking for an export, building it once, the email, retention, erasure."""

import dataclasses
import io
import json
import secrets
import zipfile
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.tests.factories import CourseFactory, EnrollmentFactory
from files import services as files
from files.tests import files_kit as kit
from messaging import services as messaging
from outbox.tests.kit import mail_down, run_sweep_later
from privacy import export, retention
from privacy.models import ExportRequest
from privacy.registry import registry
from tests.base import LecternTestCase


class ExportTestCase(LecternTestCase, kit.TemporaryStorageMixin):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, title="Pottery")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        EnrollmentFactory.create(course=self.course, student=self.dave)
        self.channel = messaging.get_or_create_channel(course=self.course)

    def say(self, author: Any, body: str) -> None:
        messaging.post_message(conversation=self.channel, author=author, body=body, notify=False)

    def requested(self, user: Any) -> ExportRequest:
        """Ask for an export and run its task, as the commit would."""
        with self.captureOnCommitCallbacks(execute=True):
            made = export.request_export(user)
        made.refresh_from_db()
        return made

    def archive(self, made: ExportRequest) -> zipfile.ZipFile:
        with made.file.open("rb") as handle:
            return zipfile.ZipFile(io.BytesIO(handle.read()))


class RequestTests(ExportTestCase):
    def test_it_builds_the_export_and_emails_the_link(self) -> None:
        made = self.requested(self.bob)
        assert made.state == ExportRequest.State.READY
        assert made.attempts == 1
        assert made.size == made.file.size > 0
        assert made.finished_at is not None
        assert made.emailed_at is not None
        assert made.expires_at == made.finished_at + timedelta(days=7)
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["bob@example.com"]
        assert "Your data is ready" in message.subject
        assert export.download_path(made).split("/download/")[0] in message.body

    def test_it_allows_one_open_export_at_a_time(self) -> None:
        first = export.request_export(self.bob)  # queued: its task runs only on commit
        with pytest.raises(export.AlreadyPreparingError) as refused:
            export.request_export(self.bob)
        assert refused.value.export == first
        assert ExportRequest.objects.filter(user=self.bob).count() == 1
        # Someone else is not held up by bob's export.
        assert export.request_export(self.dave).user == self.dave

    def test_it_turns_a_lost_race_into_already_preparing(self) -> None:
        first = export.request_export(self.bob)
        # The up-front check sees nothing, as when two requests arrive together.
        with (
            mock.patch.object(export, "_open_export", side_effect=[None, first]),
            pytest.raises(export.AlreadyPreparingError) as refused,
        ):
            export.request_export(self.bob)
        assert refused.value.export == first
        assert ExportRequest.objects.filter(user=self.bob).count() == 1

    def test_it_limits_requests_per_day(self) -> None:
        for _ in range(export.REQUEST_LIMIT.count):
            self.requested(self.bob)
        with pytest.raises(export.TooManyRequestsError) as refused:
            export.request_export(self.bob)
        assert 0 < refused.value.retry_after <= 24 * 3600
        assert ExportRequest.objects.filter(user=self.bob).count() == export.REQUEST_LIMIT.count
        self.requested(self.dave)

    def test_a_refused_duplicate_does_not_use_up_the_limit(self) -> None:
        export.request_export(self.bob)
        for _ in range(5):
            with pytest.raises(export.AlreadyPreparingError):
                export.request_export(self.bob)
        ExportRequest.objects.filter(user=self.bob).update(state=ExportRequest.State.FAILED)
        export.request_export(self.bob)


class BuildTests(ExportTestCase):
    def test_it_emails_exactly_once_when_the_task_runs_twice(self) -> None:
        made = self.requested(self.bob)
        export.build(made.pk)
        export.build(made.pk)
        made.refresh_from_db()
        assert len(mail.outbox) == 1
        assert made.attempts == 1

    def test_it_restarts_a_build_a_dead_worker_left_running(self) -> None:
        made = export.request_export(self.bob)
        ExportRequest.objects.filter(pk=made.pk).update(
            state=ExportRequest.State.RUNNING, started_at=timezone.now(), attempts=1
        )
        with self.captureOnCommitCallbacks(execute=True):
            export.build(made.pk)
        made.refresh_from_db()
        assert made.state == ExportRequest.State.READY
        assert made.attempts == 2
        assert len(mail.outbox) == 1

    def test_a_restart_deletes_the_zip_a_killed_build_had_already_saved(self) -> None:
        made = export.request_export(self.bob)
        # A worker saved the ZIP under the key its claim recorded, then died before
        # marking the export ready.
        left = default_storage.save("exports/left-by-a-killed-build.zip", io.BytesIO(b"PK"))
        ExportRequest.objects.filter(pk=made.pk).update(
            state=ExportRequest.State.RUNNING, started_at=timezone.now(), attempts=1, file=left
        )
        export.build(made.pk)
        made.refresh_from_db()
        assert made.state == ExportRequest.State.READY
        assert made.file.name != left
        assert not default_storage.exists(left)
        assert default_storage.exists(str(made.file.name))

    def test_only_the_newest_of_two_overlapping_builds_finishes(self) -> None:
        made = export.request_export(self.bob)
        real = export._build_file
        stored: list[str] = []

        def overtaken(request: ExportRequest, stamp: Any) -> tuple[str, int]:
            # While this build writes, a redelivered copy of the task claims and finishes.
            with mock.patch.object(export, "_build_file", real):
                export.build(made.pk)
            name, size = real(request, stamp)
            stored.append(name)
            return name, size

        with (
            mock.patch.object(export, "_build_file", overtaken),
            self.captureOnCommitCallbacks(execute=True),
        ):
            export.build(made.pk)
        made.refresh_from_db()
        assert made.state == ExportRequest.State.READY
        assert made.file.name != stored[0]
        assert not default_storage.exists(stored[0])
        assert default_storage.exists(str(made.file.name))
        assert len(mail.outbox) == 1

    def test_a_bug_ends_as_failed_with_the_error_recorded(self) -> None:
        made = export.request_export(self.bob)
        with (
            self.assertLogs("privacy.export", "ERROR"),
            mock.patch.object(export, "write_archive", side_effect=KeyError("oops")),
        ):
            export.build(made.pk)
        made.refresh_from_db()
        assert made.state == ExportRequest.State.FAILED
        assert "KeyError" in made.error
        assert not made.file
        assert mail.outbox == []
        # A failed export no longer blocks a new one.
        assert export.request_export(self.bob).state == ExportRequest.State.QUEUED

    def test_it_retries_a_transient_error_then_gives_up(self) -> None:
        made = export.request_export(self.bob)
        with (
            self.assertLogs("privacy.export", "WARNING"),
            mock.patch.object(export, "write_archive", side_effect=ConnectionError("reset")),
            mock.patch("privacy.tasks.build_export_task.apply_async") as later,
            self.captureOnCommitCallbacks(execute=True),
        ):
            export.build(made.pk)
        made.refresh_from_db()
        assert made.state == ExportRequest.State.QUEUED
        assert later.call_args.kwargs["countdown"] == export.RETRY_BASE_SECONDS
        ExportRequest.objects.filter(pk=made.pk).update(attempts=export.MAX_ATTEMPTS - 1)
        with (
            self.assertLogs("privacy.export", "WARNING"),
            mock.patch.object(export, "write_archive", side_effect=ConnectionError("reset")),
        ):
            export.build(made.pk)
        made.refresh_from_db()
        assert made.state == ExportRequest.State.FAILED
        assert "ConnectionError" in made.error

    def test_it_emails_the_link_once_when_the_mail_service_recovers(self) -> None:
        made = export.request_export(self.bob)
        with mail_down(), self.captureOnCommitCallbacks(execute=True):
            export.build(made.pk)
            export.build(made.pk)  # a redelivered task
        made.refresh_from_db()
        assert made.state == ExportRequest.State.READY
        assert made.emailed_at is not None
        assert mail.outbox == []
        assert run_sweep_later() == 1
        with self.captureOnCommitCallbacks(execute=True):
            export.build(made.pk)
        assert run_sweep_later() == 0
        [message] = mail.outbox
        assert message.to == ["bob@example.com"]


class ArchiveTests(ExportTestCase):
    def make_data(self) -> None:
        self.say(self.bob, "Bob's question about glazes")
        self.say(self.dave, "Dave's secret")
        self.say(self.alice, "Alice answers")
        self.bob_file = files.store_upload(
            uploaded_by=self.bob,
            course=self.course,
            upload=kit.pdf("My essay.pdf"),
            purpose="submission",
        )
        files.store_upload(
            uploaded_by=self.dave,
            course=self.course,
            upload=kit.upload("dave.pdf", kit.PDF_BYTES + b"dave", "application/pdf"),
            purpose="submission",
        )

    def test_readme_describes_every_file_and_every_key_of_every_record(self) -> None:
        self.make_data()
        zf = self.archive(self.requested(self.bob))
        readme = json.loads(zf.read("README.json"))
        assert readme["schema_version"] == export.SCHEMA_VERSION
        assert readme["account"]["email"] == "bob@example.com"
        json_files = {n for n in zf.namelist() if n.endswith(".json") and n != "README.json"}
        assert json_files == set(readme["files"])
        categories = {entry.category for entry in registry}
        assert {f["category"] for f in readme["files"].values()} == categories
        for name, described in readme["files"].items():
            assert described["purpose"]
            assert described["retention"]
            assert described["legal_basis"]
            assert all(b["explanation"] for b in described["legal_basis"])
            data = json.loads(zf.read(name))
            assert data["category"] == described["category"]
            assert set(data["records"]) == set(described["models"])
            for label, rows in data["records"].items():
                model = described["models"][label]
                assert model["records"] == len(rows)
                for row in rows:
                    undocumented = set(row) - set(model["fields"])
                    assert not undocumented, f"{name} {label}: {undocumented}"

    def test_it_holds_the_persons_data_and_files_and_nobody_elses(self) -> None:
        self.make_data()
        zf = self.archive(self.requested(self.bob))
        messages = json.loads(zf.read(export.category_filename("Messages")))
        bodies = [m["body"] for m in messages["records"]["messaging.Message"]]
        assert bodies == ["Bob's question about glazes"]
        everything = b"".join(zf.read(n) for n in zf.namelist())
        assert b"Dave's secret" not in everything
        assert b"dave@example.com" not in everything
        assert b"Alice answers" not in everything
        uploads = [n for n in zf.namelist() if n.startswith("files/")]
        assert uploads == [f"files/{self.bob_file.pk}-My_essay.pdf"]
        assert zf.read(uploads[0]) == kit.PDF_BYTES
        assert zf.testzip() is None

    def test_index_html_summarises_the_archive_without_outside_assets(self) -> None:
        self.make_data()
        zf = self.archive(self.requested(self.bob))
        index = zf.read("index.html").decode()
        assert "Bob Baker" in index
        assert f'href="{export.category_filename("Messages")}"' in index
        assert f"files/{self.bob_file.pk}-My_essay.pdf" in index
        assert "My essay.pdf" in index
        assert "http://" not in index
        assert "https://" not in index
        assert "<script" not in index

    def test_it_notes_a_file_missing_from_storage_and_still_finishes(self) -> None:
        self.make_data()
        default_storage.delete(str(self.bob_file.blob.name))
        with self.assertLogs("privacy.export", "ERROR"):
            made = self.requested(self.bob)
        assert made.state == ExportRequest.State.READY
        readme = json.loads(self.archive(made).read("README.json"))
        assert readme["uploads"]["missing"] == ["My essay.pdf"]

    def test_it_reads_the_database_in_the_same_number_of_queries_for_any_amount(self) -> None:
        def queries(extra: int) -> int:
            for n in range(extra):
                self.say(self.bob, f"message {n}")
                files.store_upload(
                    uploaded_by=self.bob,
                    course=self.course,
                    upload=kit.pdf(f"notes {n}.pdf"),
                    purpose="submission",
                )
            with CaptureQueriesContext(connection) as ctx:
                export.write_archive(io.BytesIO(), self.bob)
            return len(ctx.captured_queries)

        assert queries(2) == queries(30)

    def test_it_writes_rows_as_the_exporter_yields_them(self) -> None:
        written: list[int] = []
        target = io.BytesIO()

        def exporter(user: Any) -> Any:
            for n in range(5000):
                # What has reached the ZIP so far grows while rows are still coming.
                written.append(target.tell())
                yield {"n": n, "text": secrets.token_hex(100)}

        entry = dataclasses.replace(
            registry.entries["privacy.ExportRequest"],
            category="Streaming",
            exporter=exporter,
            schema={"n": "Row number", "text": "Some text"},
        )
        export.write_archive(target, self.bob, entries=[entry])
        assert len(set(written)) > 10


class RetentionAndErasureTests(ExportTestCase):
    def test_the_sweep_deletes_expired_files_and_keeps_the_history(self) -> None:
        made = self.requested(self.bob)
        fresh = self.requested(self.dave)
        name = str(made.file.name)
        ExportRequest.objects.filter(pk=made.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        entry = registry.entries["privacy.ExportRequest"]
        outcome = retention.sweep_rule(entry)
        assert outcome.rows == 1
        made.refresh_from_db()
        assert made.state == ExportRequest.State.EXPIRED
        assert not made.file
        assert not default_storage.exists(name)
        fresh.refresh_from_db()
        assert fresh.state == ExportRequest.State.READY
        assert default_storage.exists(str(fresh.file.name))
        assert retention.sweep_rule(entry).rows == 0

    def test_the_sweep_restarts_an_export_whose_task_was_lost(self) -> None:
        made = export.request_export(self.bob)  # its task never ran
        ExportRequest.objects.filter(pk=made.pk).update(
            requested_at=timezone.now() - timedelta(hours=2)
        )
        with self.captureOnCommitCallbacks(execute=True):
            retention.sweep_rule(registry.entries["privacy.ExportRequest"])
        made.refresh_from_db()
        assert made.state == ExportRequest.State.READY
        assert len(mail.outbox) == 1

    def test_erasing_removes_every_export_and_file_and_can_run_twice(self) -> None:
        first = self.requested(self.bob)
        second = self.requested(self.bob)
        kept = self.requested(self.dave)
        names = [str(first.file.name), str(second.file.name)]
        assert export.erase_exports(self.bob) == 2
        assert export.erase_exports(self.bob) == 0
        assert not ExportRequest.objects.filter(user=self.bob).exists()
        assert not any(default_storage.exists(n) for n in names)
        assert default_storage.exists(str(kept.file.name))

    @override_settings(PRIVACY_EXPORT_DAYS=2)
    def test_the_link_lasts_as_long_as_the_setting_says(self) -> None:
        made = self.requested(self.bob)
        assert made.finished_at is not None
        assert made.expires_at == made.finished_at + timedelta(days=2)
