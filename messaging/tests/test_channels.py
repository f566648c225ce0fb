"""A course's channel: made on first use, open to its teacher and active students only."""

from courses.models import Enrollment
from courses.services import enrolment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging import services
from messaging.models import Conversation
from messaging.tests.kit import MessagingTestCase


class ChannelTests(MessagingTestCase):
    def test_it_opens_the_channel_from_the_course_for_teacher_and_students(self) -> None:
        for person in (self.alice, self.bob):
            response = self.new_client(person).get(self.url("channel", "studio"))
            assert response.status_code == 302
            assert response["Location"] == self.url("conversation", self.channel.pk)
        assert Conversation.objects.filter(course=self.course).count() == 1

    def test_it_creates_the_channel_lazily_once(self) -> None:
        course = CourseFactory.create(teacher=self.alice, slug="later")
        assert not Conversation.objects.filter(course=course).exists()
        self.new_client(self.alice).get(self.url("channel", "later"))
        self.new_client(self.alice).get(self.url("channel", "later"))
        assert Conversation.objects.filter(course=course, kind="channel").count() == 1

    def test_it_lists_a_channel_for_every_course_in_the_inbox(self) -> None:
        other = CourseFactory.create(teacher=self.carol, slug="elsewhere", title="Elsewhere")
        EnrollmentFactory.create(course=other, student=self.bob)
        response = self.new_client(self.bob).get(self.url("inbox"))
        assert response.status_code == 200
        assert Conversation.objects.filter(kind="channel", course=other).exists()
        self.assertContains(response, "Elsewhere")
        self.assertContains(response, "Studio")

    def test_it_is_404_for_people_outside_the_course(self) -> None:
        for person in (self.carol, self.dave, self.staff):
            client = self.new_client(person)
            assert client.get(self.url("channel", "studio")).status_code == 404
            assert client.get(self.url("conversation", self.channel.pk)).status_code == 404
            assert client.get(self.url("poll", self.channel.pk)).status_code == 404

    def test_membership_follows_enrolment(self) -> None:
        self.say(self.alice, "Welcome!")
        assert self.page(self.bob).status_code == 200
        enrollment = Enrollment.objects.get(course=self.course, student=self.bob)
        enrolment.leave_course(enrollment=enrollment)
        assert self.page(self.bob).status_code == 404
        EnrollmentFactory.create(course=self.course, student=self.dave)
        self.assertContains(self.page(self.dave), "Welcome!")

    def test_a_removed_student_can_no_longer_read_or_post(self) -> None:
        enrolment.remove_student(course=self.course, student=self.erin)
        client = self.new_client(self.erin)
        assert client.get(self.url("conversation", self.channel.pk)).status_code == 404
        response = client.post(self.url("post", self.channel.pk), {"body": "Still here?"})
        assert response.status_code == 404

    def test_it_shows_who_is_in_the_channel(self) -> None:
        response = self.new_client(self.bob).get(self.url("people", self.channel.pk))
        self.assertContains(response, "Alice Archer")
        self.assertContains(response, "Erin Evans")
        self.assertNotContains(response, "Dave")
        assert services.get_or_create_channel(course=self.course) == self.channel
