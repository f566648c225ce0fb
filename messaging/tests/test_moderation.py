"""A teacher moderates their course channel: removes any message, mutes a student."""

from messaging.models import Message, Participant
from messaging.tests.kit import MessagingTestCase


class ModerationTests(MessagingTestCase):
    def mute(self, student, muted: str = "1", by=None):
        return self.new_client(by or self.alice).post(
            self.url("mute", self.channel.pk, student.pk), {"muted": muted}
        )

    def test_the_teacher_removes_a_students_message(self) -> None:
        message = self.say(self.bob, "spam spam spam")
        response = self.new_client(self.alice).post(self.url("delete", message.pk))
        assert response.status_code == 302
        message.refresh_from_db()
        assert message.is_moderated
        page = self.page(self.erin)
        self.assertContains(page, "Message removed by the teacher")
        self.assertNotContains(page, "spam spam spam")

    def test_a_muted_student_reads_but_cannot_post(self) -> None:
        self.say(self.alice, "Announcement")
        response = self.mute(self.bob)
        assert response["Location"] == self.url("people", self.channel.pk)
        page = self.page(self.bob)
        self.assertContains(page, "Announcement")
        self.assertContains(page, "muted you in this channel")
        self.assertNotContains(page, 'id="composer"')
        refused = self.new_client(self.bob).post(self.url("post", self.channel.pk), {"body": "hey"})
        self.assertContains(refused, "you can read it, but not post", status_code=403)
        assert not Message.objects.filter(author=self.bob).exists()

    def test_a_muted_student_cannot_react_either(self) -> None:
        message = self.say(self.alice, "Announcement")
        self.mute(self.bob)
        response = self.new_client(self.bob).post(self.url("react", message.pk), {"emoji": "👍"})
        assert response.status_code == 403

    def test_unmuting_lets_them_post_again(self) -> None:
        self.mute(self.bob)
        self.mute(self.bob, muted="0")
        response = self.new_client(self.bob).post(
            self.url("post", self.channel.pk), {"body": "back"}
        )
        assert response.status_code == 302

    def test_a_mute_applies_to_that_channel_only(self) -> None:
        self.mute(self.bob)
        conversation = self.direct(self.bob, self.alice)
        response = self.new_client(self.bob).post(self.url("post", conversation.pk), {"body": "hi"})
        assert response.status_code == 302

    def test_the_people_page_shows_who_is_muted(self) -> None:
        self.mute(self.bob)
        response = self.new_client(self.alice).get(self.url("people", self.channel.pk))
        self.assertContains(response, "Muted")
        self.assertContains(response, "Unmute")

    def test_students_cannot_mute(self) -> None:
        response = self.mute(self.erin, by=self.bob)
        self.assertContains(response, "Only the course&#x27;s teacher", status_code=403)
        assert not Participant.objects.filter(muted_at__isnull=False).exists()

    def test_only_the_courses_students_can_be_muted(self) -> None:
        assert self.mute(self.dave).status_code == 404
        assert self.mute(self.alice).status_code == 404
