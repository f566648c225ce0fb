"""Deleting an assignment takes its submissions' files out of storage too."""

from django.urls import reverse

from courses.models import CourseItem, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from files.models import StoredFile
from files.tests import files_kit as kit
from tests.base import LecternTestCase


class DeleteAssignmentFilesTests(kit.TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        course = CourseFactory.create(teacher=self.alice, slug="essays")
        EnrollmentFactory.create(course=course, student=self.bob)
        self.item = CourseItemFactory.create(course=course, assignment=True)
        submit = reverse("courses:submit", args=["essays", self.item.pk])
        self.new_client(self.bob).post(submit, {"attachments": [kit.pdf("essay.pdf")]})
        assert Submission.objects.get().files.count() == 1
        assert len(self.stored_paths()) == 1

    def test_it_removes_the_submissions_files_from_storage(self) -> None:
        self.login(self.alice)
        url = reverse("courses:teach_item_delete", args=["essays", self.item.pk])
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(url)
        assert response.status_code == 302
        assert not CourseItem.objects.exists()
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []
