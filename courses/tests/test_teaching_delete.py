"""Deleting a course takes its items, enrolments, work and stored files with it."""

from pathlib import Path

from courses.models import CourseItem, Enrollment, ItemKind, Submission
from courses.services import courses as course_services
from courses.tests.factories import CourseFactory
from files import services as files
from files.models import StoredFile
from files.tests.files_kit import TemporaryStorageMixin, pdf
from tests.base import LecternTestCase


class DeleteCourseTests(TemporaryStorageMixin, LecternTestCase):
    def test_it_deletes_the_course_its_rows_and_its_files_in_storage(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        material = files.store_upload(
            uploaded_by=self.alice, course=course, upload=pdf(), purpose="material"
        )
        item = CourseItem.objects.create(
            course=course, kind=ItemKind.ASSIGNMENT, title="Essay", published=True
        )
        Enrollment.objects.create(course=course, student=self.bob)
        submission = Submission.objects.create(item=item, student=self.bob, text="Mine")
        work = files.store_upload(
            uploaded_by=self.bob, course=course, upload=pdf("essay.pdf"), purpose="submission"
        )
        work.submission = submission
        work.save(update_fields=["submission"])
        other = CourseFactory.create(teacher=self.alice)
        kept = files.store_upload(
            uploaded_by=self.alice, course=other, upload=pdf("kept.pdf"), purpose="material"
        )
        assert len(self.stored_paths()) == 3

        with self.captureOnCommitCallbacks(execute=True):
            course_services.delete_course(course=course)

        assert not CourseItem.objects.filter(course_id=course.pk).exists()
        assert not Enrollment.objects.filter(course_id=course.pk).exists()
        assert not Submission.objects.filter(pk=submission.pk).exists()
        assert list(StoredFile.objects.values_list("pk", flat=True)) == [kept.pk]
        assert [p.name for p in self.stored_paths()] == [Path(str(kept.blob.name)).name]
        assert material.pk not in StoredFile.objects.values_list("pk", flat=True)
