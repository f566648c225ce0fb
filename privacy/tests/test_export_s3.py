"""Download my data on S3-compatible storage (moto): streamed upload, signed redirect, cleanup."""

import io
import json
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from courses.tests.factories import CourseFactory, EnrollmentFactory
from files import services as files
from files.tests import files_kit as kit
from privacy import export, retention
from privacy.models import ExportRequest
from privacy.registry import registry
from tests.base import LecternTestCase

BUCKET = "lectern-test-exports"


class ExportOnS3Tests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.s3 = kit.use_s3(self, BUCKET)
        course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=course, student=self.bob)
        self.upload = files.store_upload(
            uploaded_by=self.bob, course=course, upload=kit.pdf("Essay.pdf"), purpose="submission"
        )

    def ready(self) -> ExportRequest:
        with self.captureOnCommitCallbacks(execute=True):
            made = export.request_export(self.bob)
        made.refresh_from_db()
        return made

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def test_it_stores_the_zip_in_the_bucket_with_the_files_copied_from_it(self) -> None:
        made = self.ready()
        assert made.state == ExportRequest.State.READY
        body = self.s3.get_object(Bucket=BUCKET, Key=str(made.file.name))["Body"].read()
        assert len(body) == made.size
        zf = zipfile.ZipFile(io.BytesIO(body))
        assert zf.read(f"files/{self.upload.pk}-Essay.pdf") == kit.PDF_BYTES
        assert json.loads(zf.read("README.json"))["uploads"]["count"] == 1
        assert len(mail.outbox) == 1

    def test_it_redirects_the_owner_to_a_short_lived_signed_url(self) -> None:
        made = self.ready()
        path = reverse("privacy:export_download", args=[made.pk, export.download_token(made)])
        response = self.new_client(self.bob).get(path)
        assert response.status_code == 302
        assert response["Cache-Control"] == "no-store"
        url = urlsplit(response["Location"])
        assert url.path == f"/{BUCKET}/{made.file.name}"
        query = parse_qs(url.query)
        assert query["X-Amz-Expires"] == ["60"]
        assert query["response-content-disposition"][0].startswith(
            'attachment; filename="lectern-data-'
        )
        assert self.new_client(self.dave).get(path).status_code == 404

    def test_the_sweep_and_the_eraser_delete_the_objects(self) -> None:
        expired = self.ready()
        ExportRequest.objects.filter(pk=expired.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        retention.sweep_rule(registry.entries["privacy.ExportRequest"])
        assert expired.file.name not in self.keys()
        current = self.ready()
        assert current.file.name in self.keys()
        export.erase_exports(self.bob)
        assert current.file.name not in self.keys()
