"""An uploaded file can't run script on Lectern's origin, however it was named or labelled.

HTML and SVG (which is a document that may hold script) are never accepted under
their own names, and uploaded under a text name they are stored and served as
plain text, as an attachment, with nosniff. Only raster images are shown inline.
A row carrying any other type (written by hand or by an older version) goes out
as application/octet-stream, to be saved.
"""

from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from courses.models import Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from files import responses
from files import services as files
from files.models import StoredFile
from files.tests import files_kit as kit
from tests.base import LecternTestCase

HTML = b"<!doctype html><html><body><script>fetch('/accounts/email/')</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
    b"<script>alert(1)</script></svg>"
)


class ServedUploadsTest(kit.TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.assignment = CourseItemFactory.create(course=self.course, assignment=True)

    def submit(self, *uploads):
        url = reverse("courses:submit", args=[self.course.slug, self.assignment.pk])
        return self.new_client(self.bob).post(url, {"text": "", "attachments": list(uploads)})

    def submitted_files(self) -> list[StoredFile]:
        submission = Submission.objects.get(item=self.assignment, student=self.bob)
        return list(submission.files.order_by("pk"))

    def fetch(self, stored: StoredFile, user=None):
        client = self.new_client(user or self.alice)
        return client.get(reverse("files:download", args=[stored.pk]), secure=True)

    def assert_attachment(self, response, content_type: str) -> None:
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Type"] == content_type
        assert response["X-Content-Type-Options"] == "nosniff"
        policy = response["Content-Security-Policy"]
        assert "sandbox" in policy
        assert "default-src 'none'" in policy

    def test_it_refuses_html_and_svg_under_their_own_names(self) -> None:
        for name, data in (("page.html", HTML), ("page.htm", HTML), ("logo.svg", SVG)):
            response = self.submit(kit.upload(name, data, "image/svg+xml"))
            assert response.status_code == 400, name
            assert b"doesn&#x27;t match its name" in response.content, name
        assert not StoredFile.objects.filter(submission__isnull=False).exists()

    def test_a_students_html_renamed_to_text_is_served_as_a_text_attachment(self) -> None:
        response = self.submit(kit.upload("notes.txt", HTML, "text/html"))
        assert response.status_code == 302

        (stored,) = self.submitted_files()
        assert stored.content_type == "text/plain; charset=utf-8"  # judged, not the claim
        served = self.fetch(stored)  # the teacher opens the student's work
        self.assert_attachment(served, "text/plain; charset=utf-8")
        assert b"".join(served.streaming_content) == HTML

    def test_a_students_svg_renamed_to_text_is_served_as_a_text_attachment(self) -> None:
        response = self.submit(kit.upload("drawing.txt", SVG, "image/svg+xml"))
        assert response.status_code == 302

        (stored,) = self.submitted_files()
        self.assert_attachment(self.fetch(stored), "text/plain; charset=utf-8")

    def test_a_teachers_html_material_is_an_attachment_for_students(self) -> None:
        stored = files.store_upload(
            uploaded_by=self.alice,
            course=self.course,
            upload=kit.upload("handout.md", HTML, "text/html"),
            purpose="material",
        )
        CourseItemFactory.create(course=self.course, file=True, file_id=stored.pk)
        self.assert_attachment(self.fetch(stored, self.bob), "text/markdown; charset=utf-8")

    def test_it_shows_a_raster_image_inline(self) -> None:
        response = self.submit(kit.png("diagram.png"))
        assert response.status_code == 302

        (stored,) = self.submitted_files()
        served = self.fetch(stored)
        assert served.status_code == 200
        assert served["Content-Disposition"].startswith("inline;")
        assert served["Content-Type"] == "image/png"
        assert served["X-Content-Type-Options"] == "nosniff"

    def test_it_never_serves_a_stored_svg_or_html_type_as_such(self) -> None:
        # A row labelled by other means than the upload check: it is saved, never shown.
        stored = files.store_upload(
            uploaded_by=self.alice,
            course=self.course,
            upload=kit.upload("logo.txt", SVG),
            purpose="material",
        )
        CourseItemFactory.create(course=self.course, file=True, file_id=stored.pk)
        for claimed in ("image/svg+xml", "text/html", "application/xhtml+xml", "text/xml"):
            StoredFile.objects.filter(pk=stored.pk).update(content_type=claimed)
            stored.refresh_from_db()
            self.assert_attachment(self.fetch(stored, self.bob), "application/octet-stream")

    def test_it_never_shows_a_cover_labelled_svg_on_the_storefront(self) -> None:
        cover = files.store_upload(
            uploaded_by=self.alice, course=self.course, upload=kit.png(), purpose="cover"
        )
        self.course.cover = cover
        self.course.visibility = "public"
        self.course.save(update_fields=["cover", "visibility"])
        url = reverse("storefront:cover", args=[self.course.slug])
        shown = self.new_client().get(url, secure=True)
        assert shown.status_code == 200
        assert shown["Content-Disposition"].startswith("inline;")

        StoredFile.objects.filter(pk=cover.pk).update(content_type="image/svg+xml")
        self.assert_attachment(self.new_client().get(url, secure=True), "application/octet-stream")

    def test_it_shows_inline_only_raster_images(self) -> None:
        assert {t for t in files.SERVED_TYPES if responses.may_show_inline(t)} == {
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
        }
        assert not responses.may_show_inline("image/svg+xml")


class ServedUploadsOnS3Test(LecternTestCase):
    """On object storage the signed URL itself names the disposition and the type."""

    def setUp(self) -> None:
        super().setUp()
        kit.use_s3(self, "lectern-test-served")
        self.course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=self.course, student=self.bob)

    def signed_query(self, stored: StoredFile) -> dict[str, list[str]]:
        CourseItemFactory.create(course=self.course, file=True, file_id=stored.pk)
        response = self.new_client(self.bob).get(reverse("files:download", args=[stored.pk]))
        assert response.status_code == 302
        return parse_qs(urlsplit(response["Location"]).query)

    def store(self, upload) -> StoredFile:
        return files.store_upload(
            uploaded_by=self.alice, course=self.course, upload=upload, purpose="material"
        )

    def test_it_signs_a_text_file_as_an_attachment_of_its_real_type(self) -> None:
        query = self.signed_query(self.store(kit.upload("page.txt", HTML, "text/html")))
        assert query["response-content-disposition"] == ['attachment; filename="page.txt"']
        assert query["response-content-type"] == ["text/plain; charset=utf-8"]

    def test_it_signs_an_svg_labelled_row_as_an_octet_stream_attachment(self) -> None:
        stored = self.store(kit.upload("logo.txt", SVG))
        StoredFile.objects.filter(pk=stored.pk).update(content_type="image/svg+xml")
        stored.refresh_from_db()
        query = self.signed_query(stored)
        assert query["response-content-disposition"][0].startswith("attachment;")
        assert query["response-content-type"] == ["application/octet-stream"]

    def test_it_signs_a_png_inline(self) -> None:
        query = self.signed_query(self.store(kit.png("diagram.png")))
        assert query["response-content-disposition"] == ['inline; filename="diagram.png"']
        assert query["response-content-type"] == ["image/png"]
