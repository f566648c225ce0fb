"""Students submit work: text and files, re-submitting, late work and refusals."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from courses.models import LatePolicy, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from files.models import StoredFile
from files.tests import files_kit as kit
from tests.base import LecternTestCase


class SubmitTests(kit.TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.item = CourseItemFactory.create(course=self.course, assignment=True, points=20)
        self.url = reverse("courses:submit", args=[self.course.slug, self.item.pk])
        self.item_url = reverse("courses:item", args=[self.course.slug, self.item.pk])

    def submit(self, user=None, **data):
        return self.new_client(user or self.bob).post(self.url, data)

    def test_it_stores_text_and_files(self) -> None:
        response = self.submit(
            text="My essay", attachments=[kit.pdf("essay.pdf"), kit.png("fig.png")]
        )
        self.assertRedirects(response, self.item_url + "#submission", fetch_redirect_response=False)
        submission = Submission.objects.get(item=self.item, student=self.bob)
        assert submission.text == "My essay"
        assert submission.attempts == 1
        assert not submission.is_late
        names = sorted(f.original_name for f in submission.files.all())
        assert names == ["essay.pdf", "fig.png"]
        assert all(f.uploaded_by == self.bob for f in submission.files.all())

    def test_it_accepts_files_alone(self) -> None:
        self.submit(attachments=[kit.pdf()])
        assert Submission.objects.get().files.count() == 1

    def test_it_refuses_an_empty_submission(self) -> None:
        response = self.submit(text="   ")
        assert response.status_code == 400
        self.assertContains(response, "Write an answer or attach", status_code=400)
        assert not Submission.objects.exists()

    def test_it_refuses_an_executable_and_stores_nothing(self) -> None:
        bad = kit.upload("essay.pdf", kit.ELF_BYTES)
        response = self.submit(text="See attached", attachments=[kit.pdf("ok.pdf"), bad])
        self.assertContains(response, "program or a script", status_code=400)
        # The text the student typed comes back with the error.
        self.assertContains(response, "See attached", status_code=400)
        assert not Submission.objects.exists()
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []

    def test_it_replaces_text_and_counts_attempts_on_resubmit(self) -> None:
        self.submit(text="First", attachments=[kit.pdf("v1.pdf")])
        self.submit(text="Second")
        submission = Submission.objects.get()
        assert submission.text == "Second"
        assert submission.attempts == 2
        # No new files: the ones sent before are kept.
        assert [f.original_name for f in submission.files.all()] == ["v1.pdf"]

    def test_it_replaces_files_when_new_ones_are_sent(self) -> None:
        self.submit(text="First", attachments=[kit.pdf("v1.pdf")])
        with self.captureOnCommitCallbacks(execute=True):
            self.submit(text="Second", attachments=[kit.pdf("v2.pdf")])
        submission = Submission.objects.get()
        assert [f.original_name for f in submission.files.all()] == ["v2.pdf"]
        assert StoredFile.objects.count() == 1
        assert len(self.stored_paths()) == 1

    def test_it_puts_a_resubmission_back_in_the_queue(self) -> None:
        self.submit(text="First")
        Submission.objects.update(graded_at=timezone.now(), points_awarded=5)
        self.submit(text="Second")
        submission = Submission.objects.get()
        assert submission.graded_at is None
        assert submission.points_awarded == 5  # the draft stays for the teacher

    def test_it_closes_work_once_a_grade_is_returned(self) -> None:
        self.submit(text="First")
        Submission.objects.update(graded_at=timezone.now(), returned_at=timezone.now())
        response = self.submit(text="Second")
        self.assertContains(response, "returned a grade", status_code=400)
        assert Submission.objects.get().text == "First"

    def test_it_flags_late_work_when_the_policy_accepts_it(self) -> None:
        self.item.due_at = timezone.now() - timedelta(hours=1)
        self.item.save(update_fields=["due_at"])
        response = self.submit(text="Sorry")
        assert response.status_code == 302
        assert Submission.objects.get().is_late

    def test_it_refuses_late_work_when_the_policy_says_so(self) -> None:
        self.item.due_at = timezone.now() - timedelta(minutes=1)
        self.item.late_policy = LatePolicy.REFUSE
        self.item.save(update_fields=["due_at", "late_policy"])
        response = self.submit(text="Sorry", attachments=[kit.pdf()])
        self.assertContains(response, "deadline has passed", status_code=400)
        assert not Submission.objects.exists()
        assert self.stored_paths() == []

    def test_it_accepts_work_before_the_deadline_under_refuse(self) -> None:
        self.item.late_policy = LatePolicy.REFUSE
        self.item.save(update_fields=["late_policy"])
        assert self.submit(text="On time").status_code == 302

    def test_it_is_404_for_the_teacher(self) -> None:
        assert self.submit(user=self.alice, text="x").status_code == 404

    def test_it_is_404_for_a_student_not_enrolled(self) -> None:
        assert self.submit(user=self.dave, text="x").status_code == 404
        assert not Submission.objects.exists()

    def test_it_is_404_for_an_unpublished_assignment(self) -> None:
        self.item.published = False
        self.item.save(update_fields=["published"])
        assert self.submit(text="x").status_code == 404

    def test_it_is_404_for_an_item_that_is_not_an_assignment(self) -> None:
        material = CourseItemFactory.create(course=self.course)
        url = reverse("courses:submit", args=[self.course.slug, material.pk])
        assert self.new_client(self.bob).post(url, {"text": "x"}).status_code == 404

    def test_it_sends_get_to_the_assignment(self) -> None:
        response = self.new_client(self.bob).get(self.url)
        self.assertRedirects(response, self.item_url, fetch_redirect_response=False)

    def test_it_refuses_too_many_files(self) -> None:
        response = self.submit(attachments=[kit.pdf(f"{n}.pdf") for n in range(11)])
        self.assertContains(response, "at most 10 files", status_code=400)
        assert not StoredFile.objects.exists()
