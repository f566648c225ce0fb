"""Downloads go through an access check: who may fetch which file, and how it is served."""

from django.urls import reverse

from courses.models import CourseItem, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from files import services as files
from files.models import StoredFile
from files.tests import files_kit as kit
from tests.base import LecternTestCase, StudentFactory


class DownloadTests(kit.TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, draft=True)
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.material = self.store(kit.pdf("Week 1.pdf"))
        self.item = CourseItemFactory.create(
            course=self.course, file=True, file_id=self.material.pk
        )
        assignment = CourseItemFactory.create(course=self.course, assignment=True)
        self.submission = Submission.objects.create(item=assignment, student=self.bob, text="hi")
        self.answer = self.store(kit.pdf("answer.pdf"), user=self.bob, purpose="submission")
        StoredFile.objects.filter(pk=self.answer.pk).update(submission=self.submission)

    def store(self, upload, user=None, purpose="material") -> StoredFile:
        return files.store_upload(
            uploaded_by=user or self.alice, course=self.course, upload=upload, purpose=purpose
        )

    def url(self, stored: StoredFile) -> str:
        return reverse("files:download", args=[stored.pk])

    def get(self, user, stored: StoredFile):
        return self.new_client(user).get(self.url(stored))

    def test_it_streams_a_material_to_its_teacher(self) -> None:
        response = self.get(self.alice, self.material)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == kit.PDF_BYTES
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "private" in response["Cache-Control"]
        assert response["Content-Disposition"] == 'attachment; filename="Week 1.pdf"'

    def test_it_streams_a_published_material_to_an_enrolled_student(self) -> None:
        assert self.get(self.bob, self.material).status_code == 200

    def test_it_hides_an_unpublished_items_file_from_students(self) -> None:
        CourseItem.objects.filter(pk=self.item.pk).update(published=False)
        assert self.get(self.bob, self.material).status_code == 404
        assert self.get(self.alice, self.material).status_code == 200

    def test_it_hides_a_file_attached_to_no_item_from_students(self) -> None:
        loose = self.store(kit.pdf("draft.pdf"))
        assert self.get(self.bob, loose).status_code == 404

    def test_it_is_404_for_a_student_who_left(self) -> None:
        self.course.enrollments.filter(student=self.bob).update(status="left")
        assert self.get(self.bob, self.material).status_code == 404

    def test_it_is_404_for_another_student_and_another_teacher(self) -> None:
        assert self.get(self.dave, self.material).status_code == 404
        assert self.get(self.carol, self.material).status_code == 404
        assert self.get(self.staff, self.material).status_code == 404

    def test_it_sends_visitors_to_log_in_whether_the_file_exists_or_not(self) -> None:
        response = self.new_client().get(self.url(self.material))
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]
        missing = self.new_client().get(reverse("files:download", args=[999999]))
        assert missing.status_code == 302

    def test_it_keeps_submission_files_to_the_student_and_the_teacher(self) -> None:
        assert self.get(self.bob, self.answer).status_code == 200
        assert self.get(self.alice, self.answer).status_code == 200
        other = StudentFactory.create()
        EnrollmentFactory.create(course=self.course, student=other)
        assert self.get(other, self.answer).status_code == 404
        assert self.get(self.carol, self.answer).status_code == 404

    def test_it_shows_a_draft_courses_cover_to_members_only(self) -> None:
        cover = self.store(kit.png(), purpose="cover")
        self.course.cover = cover
        self.course.save(update_fields=["cover"])
        response = self.get(self.bob, cover)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("inline")
        assert self.get(self.dave, cover).status_code == 404

    def test_it_shows_a_public_courses_cover_to_everyone(self) -> None:
        cover = self.store(kit.png(), purpose="cover")
        self.course.cover = cover
        self.course.visibility = "public"
        self.course.save(update_fields=["cover", "visibility"])
        response = self.new_client().get(self.url(cover))
        assert response.status_code == 200
        assert "public" in response["Cache-Control"]
        # A public course's other files stay private.
        assert self.get(self.dave, self.material).status_code == 404

    def test_it_is_404_when_the_blob_is_gone(self) -> None:
        assert self.material.blob.name
        self.material.blob.storage.delete(self.material.blob.name)
        assert self.get(self.alice, self.material).status_code == 404

    def test_it_refuses_post(self) -> None:
        response = self.new_client(self.alice).post(self.url(self.material))
        assert response.status_code == 405
