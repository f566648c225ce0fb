"""S3-compatible storage, against moto: private objects under random keys, signed redirects."""

from urllib.parse import parse_qs, urlsplit

from django.test import override_settings
from django.urls import reverse

from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from files import services as files
from files.models import StoredFile
from files.tests import files_kit as kit
from tests.base import LecternTestCase

BUCKET = "lectern-test-files"


class S3StorageTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.s3 = kit.use_s3(self, BUCKET)
        self.course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=self.course, student=self.bob)

    def store(self) -> StoredFile:
        stored = files.store_upload(
            uploaded_by=self.alice,
            course=self.course,
            upload=kit.pdf("Reading list.pdf"),
            purpose="material",
        )
        CourseItemFactory.create(course=self.course, file=True, file_id=stored.pk)
        return stored

    def test_it_stores_the_object_in_the_bucket_under_the_random_key(self) -> None:
        stored = self.store()
        key = str(stored.blob.name)
        obj = self.s3.get_object(Bucket=BUCKET, Key=key)
        assert obj["Body"].read() == kit.PDF_BYTES
        assert obj["ContentType"] == "application/pdf"
        assert "Reading" not in key
        acl = self.s3.get_object_acl(Bucket=BUCKET, Key=key)
        grantees = {g["Grantee"].get("URI") for g in acl["Grants"]}
        assert "http://acs.amazonaws.com/groups/global/AllUsers" not in grantees

    def test_it_redirects_a_member_to_a_short_lived_signed_url(self) -> None:
        stored = self.store()
        response = self.new_client(self.bob).get(reverse("files:download", args=[stored.pk]))
        assert response.status_code == 302
        assert response["Cache-Control"] == "no-store"
        url = urlsplit(response["Location"])
        assert url.path == f"/{BUCKET}/{stored.blob.name}"
        query = parse_qs(url.query)
        assert query["X-Amz-Expires"] == ["60"]
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert "X-Amz-Signature" in query
        assert query["response-content-disposition"] == ['attachment; filename="Reading list.pdf"']
        assert query["response-content-type"] == ["application/pdf"]

    def test_it_follows_the_ttl_setting(self) -> None:
        stored = self.store()
        with override_settings(FILE_URL_TTL_SECONDS=30):
            response = self.new_client(self.alice).get(reverse("files:download", args=[stored.pk]))
        assert parse_qs(urlsplit(response["Location"]).query)["X-Amz-Expires"] == ["30"]

    def test_it_makes_no_url_for_someone_without_access(self) -> None:
        stored = self.store()
        response = self.new_client(self.dave).get(reverse("files:download", args=[stored.pk]))
        assert response.status_code == 404
        assert "Location" not in response
        assert b"X-Amz" not in response.content

    def test_it_removes_the_object_when_the_file_is_deleted(self) -> None:
        stored = self.store()
        key = stored.blob.name
        with self.captureOnCommitCallbacks(execute=True):
            files.delete_files([stored])
        listing = self.s3.list_objects_v2(Bucket=BUCKET)
        assert key not in [o["Key"] for o in listing.get("Contents", [])]
