"""Group conversations: a teacher and some of one course's students."""

from courses.models import Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging import services
from messaging.models import Conversation
from messaging.tests.kit import MessagingTestCase


class GroupTests(MessagingTestCase):
    def create(self, **data: object):
        return self.new_client(self.alice).post(self.url("new_group", "studio"), data)

    def test_a_teacher_starts_a_group_with_chosen_students(self) -> None:
        response = self.create(title="Project team", students=[self.bob.pk])
        group = Conversation.objects.get(kind="group")
        assert response["Location"] == self.url("conversation", group.pk)
        assert group.title == "Project team"
        assert self.page(self.bob, group).status_code == 200
        assert self.page(self.alice, group).status_code == 200
        assert self.page(self.erin, group).status_code == 404

    def test_the_form_lists_the_courses_students(self) -> None:
        response = self.new_client(self.alice).get(self.url("new_group", "studio"))
        self.assertContains(response, "Bob Baker")
        self.assertContains(response, "Erin Evans")

    def test_it_needs_at_least_one_student(self) -> None:
        response = self.create(title="Empty")
        self.assertContains(response, "Choose at least one student", status_code=400)
        assert not Conversation.objects.filter(kind="group").exists()

    def test_it_refuses_someone_not_in_the_course(self) -> None:
        response = self.create(students=[self.dave.pk])
        assert response.status_code == 400
        assert not Conversation.objects.filter(kind="group").exists()

    def test_students_and_other_teachers_cannot_start_one(self) -> None:
        for person in (self.bob, self.carol):
            client = self.new_client(person)
            assert client.get(self.url("new_group", "studio")).status_code == 404
            response = client.post(self.url("new_group", "studio"), {"students": [self.bob.pk]})
            assert response.status_code == 404

    def test_a_student_who_leaves_the_course_leaves_the_group(self) -> None:
        group = services.create_group(
            teacher=self.alice, course=self.course, students=[self.bob, self.erin]
        )
        Enrollment.objects.filter(student=self.erin).update(status=Enrollment.Status.LEFT)
        assert self.page(self.erin, group).status_code == 404
        assert self.page(self.bob, group).status_code == 200

    def test_it_is_named_after_its_people_without_a_name(self) -> None:
        group = services.create_group(teacher=self.alice, course=self.course, students=[self.bob])
        self.assertContains(self.page(self.alice, group), "Bob Baker")

    def test_another_courses_teacher_cannot_group_these_students(self) -> None:
        other = CourseFactory.create(teacher=self.carol, slug="carols")
        EnrollmentFactory.create(course=other, student=self.dave)
        response = self.new_client(self.carol).post(
            self.url("new_group", "carols"), {"students": [self.bob.pk]}
        )
        assert response.status_code == 400
