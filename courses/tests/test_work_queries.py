"""The grading queue, the gradebook and its CSV run a fixed number of queries."""

from itertools import count

from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, StudentFactory, assert_constant_queries


class WorkQueryCountTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice)
        self.assignments = [
            CourseItemFactory.create(course=self.course, assignment=True) for _ in range(3)
        ]
        self.serial = count()
        self.login(self.alice)

    def add_students(self, n: int, *, with_work: bool = True) -> None:
        """Enrol n students, each with work on every assignment, half of it graded."""
        students = StudentFactory.create_batch(n)
        Enrollment.objects.bulk_create(Enrollment(course=self.course, student=s) for s in students)
        if not with_work:
            return
        now = timezone.now()
        Submission.objects.bulk_create(
            Submission(
                item=item,
                student=student,
                text="work",
                is_late=next(self.serial) % 3 == 0,
                graded_at=now if student.pk % 2 else None,
                returned_at=now if student.pk % 4 == 1 else None,
                points_awarded=7 if student.pk % 2 else None,
            )
            for student in students
            for item in self.assignments
        )

    def add_assignments(self, n: int) -> None:
        for _ in range(n):
            self.assignments.append(CourseItemFactory.create(course=self.course, assignment=True))

    def test_the_grading_queue(self) -> None:
        url = reverse("courses:grading", args=[self.course.slug])
        assert_constant_queries(self, url, lambda n: self.add_students(n // 3 or 1), budget=14)

    def test_the_gradebook_with_many_students(self) -> None:
        url = reverse("courses:gradebook", args=[self.course.slug])
        assert_constant_queries(self, url, self.add_students, budget=14)

    def test_the_gradebook_with_many_assignments(self) -> None:
        self.add_students(20)
        url = reverse("courses:gradebook", args=[self.course.slug])
        assert_constant_queries(self, url, self.add_assignments, counts=(10, 100), budget=14)

    def test_the_gradebook_csv(self) -> None:
        url = reverse("courses:gradebook_csv", args=[self.course.slug])
        assert_constant_queries(self, url, self.add_students, budget=12)

    def test_a_students_grades(self) -> None:
        self.add_students(1)
        student = Enrollment.objects.get(course=self.course).student
        client = self.new_client(student)
        url = reverse("courses:my_grades", args=[self.course.slug])

        def make(n: int) -> None:
            self.add_assignments(n)
            now = timezone.now()
            Submission.objects.bulk_create(
                Submission(
                    item=a,
                    student=student,
                    graded_at=now,
                    returned_at=now,
                    points_awarded=5,
                    feedback="**ok**",
                )
                for a in self.assignments[-n:]
            )

        assert_constant_queries(client, url, make, counts=(10, 200), budget=13)
