"""Direct conversations: only between people who share a course."""

from courses.models import Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging.models import Conversation, Participant
from messaging.tests.kit import MessagingTestCase


class DirectTests(MessagingTestCase):
    def test_a_student_can_message_their_teacher(self) -> None:
        response = self.new_client(self.bob).get(self.url("direct", self.alice.pk))
        conversation = Conversation.objects.get(kind="direct")
        assert response["Location"] == self.url("conversation", conversation.pk)
        assert set(
            Participant.objects.values_list("user_id", flat=True).filter(conversation=conversation)
        ) == {self.alice.pk, self.bob.pk}

    def test_classmates_can_message_each_other(self) -> None:
        response = self.new_client(self.bob).get(self.url("direct", self.erin.pk))
        assert response.status_code == 302
        conversation = Conversation.objects.get(kind="direct")
        self.say(self.bob, "Shall we practise together?", conversation)
        self.assertContains(self.page(self.erin, conversation), "Shall we practise together?")

    def test_there_is_one_conversation_per_pair(self) -> None:
        first = self.new_client(self.bob).get(self.url("direct", self.alice.pk))
        second = self.new_client(self.alice).get(self.url("direct", self.bob.pk))
        assert first["Location"] == second["Location"]
        assert Conversation.objects.filter(kind="direct").count() == 1

    def test_nobody_can_message_someone_they_share_no_course_with(self) -> None:
        response = self.new_client(self.dave).get(self.url("direct", self.bob.pk))
        assert response.status_code == 404
        self.assertContains(response, "share a course with", status_code=404)
        response = self.new_client(self.bob).get(self.url("direct", self.carol.pk))
        assert response.status_code == 404
        assert not Conversation.objects.filter(kind="direct").exists()

    def test_an_unknown_person_looks_the_same_as_a_stranger(self) -> None:
        response = self.new_client(self.bob).get(self.url("direct", 999_999))
        self.assertContains(response, "share a course with", status_code=404)

    def test_nobody_messages_themselves(self) -> None:
        assert self.new_client(self.bob).get(self.url("direct", self.bob.pk)).status_code == 404

    def test_only_the_two_people_can_read_it(self) -> None:
        conversation = self.direct(self.bob, self.alice)
        self.say(self.bob, "Private question", conversation)
        for person in (self.erin, self.carol, self.dave, self.staff):
            assert self.page(person, conversation).status_code == 404

    def test_after_the_course_ends_for_one_of_them_it_is_read_only(self) -> None:
        conversation = self.direct(self.bob, self.erin)
        self.say(self.bob, "See you in class", conversation)
        Enrollment.objects.filter(student=self.erin).update(status=Enrollment.Status.LEFT)
        response = self.page(self.bob, conversation)
        self.assertContains(response, "See you in class")
        self.assertContains(response, "no longer share a course with Erin Evans")
        self.assertNotContains(response, 'id="composer"')
        refused = self.new_client(self.bob).post(
            self.url("post", conversation.pk), {"body": "Hello?"}
        )
        self.assertContains(refused, "no longer share a course", status_code=403)

    def test_a_second_shared_course_keeps_it_open(self) -> None:
        conversation = self.direct(self.bob, self.erin)
        other = CourseFactory.create(teacher=self.carol)
        EnrollmentFactory.create(course=other, student=self.bob)
        EnrollmentFactory.create(course=other, student=self.erin)
        Enrollment.objects.filter(course=self.course).update(status=Enrollment.Status.LEFT)
        response = self.new_client(self.bob).post(
            self.url("post", conversation.pk), {"body": "Hello again"}
        )
        assert response.status_code == 302
