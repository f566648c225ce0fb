"""Uploads: type judged by content, size limit, teacher quota, nothing stored half-way."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from courses.models import Course
from courses.tests.factories import CourseFactory
from files import quotas
from files import services as files
from files.models import StoredFile
from files.tests import files_kit as kit
from tests.base import LecternTestCase


class StoreUploadTests(kit.TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice)

    def store(self, upload, purpose: str = "material", user=None) -> StoredFile:
        return files.store_upload(
            uploaded_by=user or self.alice, course=self.course, upload=upload, purpose=purpose
        )

    def assert_refused(self, upload, purpose: str = "material", match: str = "") -> None:
        with pytest.raises(ValidationError) as caught:
            self.store(upload, purpose)
        if match:
            assert match in " ".join(caught.value.messages)
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []

    def test_it_stores_a_real_pdf_under_a_random_key(self) -> None:
        stored = self.store(kit.pdf("Week 1 notes.pdf"))
        assert stored.original_name == "Week 1 notes.pdf"
        assert stored.content_type == "application/pdf"
        assert stored.size == len(kit.PDF_BYTES)
        assert "Week" not in str(stored.blob.name)
        assert str(stored.blob.name).startswith("uploads/")
        assert len(self.stored_paths()) == 1
        assert self.stored_paths()[0].read_bytes() == kit.PDF_BYTES

    def test_it_refuses_an_executable_renamed_pdf(self) -> None:
        self.assert_refused(
            kit.upload("syllabus.pdf", kit.ELF_BYTES, "application/pdf"),
            match="program or a script",
        )

    def test_it_refuses_a_windows_program_renamed_pdf(self) -> None:
        pe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 100
        self.assert_refused(kit.upload("syllabus.pdf", pe), match="program or a script")

    def test_it_refuses_a_script_renamed_pdf(self) -> None:
        self.assert_refused(
            kit.upload("syllabus.pdf", b"#!/bin/sh\nrm -rf ~\n"), match="program or a script"
        )

    def test_it_refuses_text_renamed_pdf(self) -> None:
        self.assert_refused(
            kit.upload("syllabus.pdf", b"just some words"), match="doesn't match its name"
        )

    def test_it_uses_the_type_from_the_content_not_the_browser(self) -> None:
        stored = self.store(kit.upload("photo.png", kit.image_bytes("PNG"), "application/pdf"))
        assert stored.content_type == "image/png"

    def test_it_accepts_a_png_as_cover(self) -> None:
        stored = self.store(kit.png(), purpose="cover")
        assert stored.content_type == "image/png"

    def test_it_accepts_jpeg_gif_and_webp_covers(self) -> None:
        for fmt, ext, mime in (
            ("JPEG", "jpg", "image/jpeg"),
            ("GIF", "gif", "image/gif"),
            ("WEBP", "webp", "image/webp"),
        ):
            stored = self.store(kit.upload(f"c.{ext}", kit.image_bytes(fmt)), purpose="cover")
            assert stored.content_type == mime

    def test_it_refuses_a_pdf_as_cover(self) -> None:
        self.assert_refused(kit.pdf("cover.pdf"), purpose="cover", match="cover must be")

    def test_it_refuses_a_truncated_image_as_cover(self) -> None:
        broken = kit.image_bytes("PNG")[:40]
        self.assert_refused(
            kit.upload("cover.png", broken), purpose="cover", match="not a readable image"
        )

    def test_it_refuses_text_with_nul_bytes(self) -> None:
        self.assert_refused(kit.upload("notes.txt", b"hello\x00world"), match="not a type")

    def test_it_refuses_text_that_is_not_utf8(self) -> None:
        self.assert_refused(kit.upload("notes.txt", "café".encode("latin-1")), match="not a type")

    def test_it_accepts_utf8_text_markdown_and_csv(self) -> None:
        for name, mime in (
            ("a.txt", "text/plain"),
            ("b.md", "text/markdown"),
            ("c.csv", "text/csv"),
        ):
            stored = self.store(kit.upload(name, "Größe, naïve\n".encode()))
            assert stored.content_type == f"{mime}; charset=utf-8"

    def test_it_accepts_office_documents_by_their_contents(self) -> None:
        stored = self.store(kit.upload("essay.docx", kit.docx_bytes()))
        assert "wordprocessingml" in stored.content_type

    def test_it_refuses_a_plain_zip_renamed_docx(self) -> None:
        data = kit.zip_bytes({"a.txt": b"hi"})
        self.assert_refused(kit.upload("essay.docx", data), match="zip archive")

    def test_it_accepts_a_zip_archive(self) -> None:
        stored = self.store(kit.upload("code.zip", kit.zip_bytes({"a.txt": b"hi"})))
        assert stored.content_type == "application/zip"

    def test_it_accepts_an_opendocument_text(self) -> None:
        data = kit.zip_bytes(
            {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}
        )
        stored = self.store(kit.upload("essay.odt", data))
        assert stored.content_type == "application/vnd.oasis.opendocument.text"

    def test_it_refuses_an_html_page(self) -> None:
        # Text is accepted only under a text name; an .html name is not one.
        self.assert_refused(
            kit.upload("page.html", b"<script>alert(1)</script>"), match="doesn't match its name"
        )

    def test_it_refuses_an_empty_file(self) -> None:
        self.assert_refused(kit.upload("empty.pdf", b""), match="empty")

    @override_settings(FILE_MAX_BYTES=100)
    def test_it_refuses_a_file_over_the_size_limit(self) -> None:
        self.assert_refused(kit.pdf(), match="at most 100")

    @kit.quota(len(kit.PDF_BYTES) * 2)
    def test_it_refuses_an_upload_over_the_teachers_quota(self) -> None:
        self.store(kit.pdf("one.pdf"))
        self.store(kit.pdf("two.pdf"))
        with pytest.raises(ValidationError) as caught:
            self.store(kit.pdf("three.pdf"))
        assert "storage" in caught.value.messages[0]
        assert StoredFile.objects.count() == 2
        assert len(self.stored_paths()) == 2

    @kit.quota(10)
    def test_it_does_not_count_submissions_against_a_quota(self) -> None:
        stored = self.store(kit.pdf(), purpose="submission", user=self.bob)
        assert stored.uploaded_by == self.bob

    @kit.quota(None)
    def test_a_quota_of_none_is_no_limit(self) -> None:
        for n in range(3):
            self.store(kit.pdf(f"{n}.pdf"))
        assert StoredFile.objects.count() == 3

    def test_without_a_provider_nothing_limits_storage(self) -> None:
        with mock.patch.object(quotas, "_providers", []):
            for n in range(3):
                self.store(kit.pdf(f"{n}.pdf"))
        assert StoredFile.objects.count() == 3

    def test_it_sanitises_the_original_name(self) -> None:
        stored = self.store(kit.upload("..\\..\\etc/pass\x00wd\n.txt", b"hello"))
        assert stored.original_name == "passwd.txt"
        long_name = "a" * 400 + ".pdf"
        stored = self.store(kit.upload(long_name, kit.PDF_BYTES))
        assert len(stored.original_name) == 255
        assert stored.original_name.endswith(".pdf")

    def test_it_adds_the_extension_when_the_name_has_none(self) -> None:
        stored = self.store(kit.upload("scan", kit.PDF_BYTES))
        assert stored.original_name == "scan.pdf"

    def test_it_removes_the_blob_when_the_row_cannot_be_saved(self) -> None:
        unsaved_course = Course(teacher=self.alice, title="Not saved", slug="not-saved")
        with pytest.raises(ValueError, match="unsaved"):
            files.store_upload(
                uploaded_by=self.alice, course=unsaved_course, upload=kit.pdf(), purpose="material"
            )
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []
