"""The conversation list: latest first, unread counts, constant queries, live by polling."""

from django.utils import timezone
from django.utils.html import strip_tags

from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging.models import Conversation, Message, Participant
from messaging.tests.kit import MessagingTestCase
from tests.base import StudentFactory, assert_constant_queries


def text(response) -> str:
    return " ".join(strip_tags(response.content.decode()).split())


class InboxTests(MessagingTestCase):
    def test_it_lists_conversations_latest_first_with_unread_counts(self) -> None:
        direct = self.direct(self.alice, self.bob)
        self.say(self.bob, "channel message")
        self.say(self.bob, "private one", direct)
        response = self.new_client(self.alice).get(self.url("inbox"))
        content = response.content.decode()
        assert content.index("Bob Baker") < content.index("Studio")
        assert response.context["rows"][0].conversation.unread == 1
        assert "Bob: private one" in text(response)

    def test_a_direct_conversation_without_messages_stays_out(self) -> None:
        self.direct(self.alice, self.bob)
        response = self.new_client(self.alice).get(self.url("inbox"))
        assert [r.conversation.kind for r in response.context["rows"]] == ["channel"]

    def test_it_teaches_what_to_do_when_empty(self) -> None:
        response = self.new_client(self.dave).get(self.url("inbox"))
        self.assertContains(response, "No conversations yet")
        self.assertContains(response, "New message")

    def test_it_polls_with_an_etag_and_gets_304_while_nothing_changed(self) -> None:
        client = self.htmx(self.alice)
        first = client.get(self.url("inbox"), {"poll": "1"})
        assert first.status_code == 200
        self.assertTemplateUsed(first, "messaging/_inbox_list.html")
        again = client.get(
            self.url("inbox"), {"poll": "1"}, headers={"If-None-Match": first["ETag"]}
        )
        assert again.status_code == 304
        self.say(self.bob, "news")
        changed = client.get(
            self.url("inbox"), {"poll": "1"}, headers={"If-None-Match": first["ETag"]}
        )
        assert "Bob: news" in text(changed)

    def test_it_runs_the_same_queries_for_10_and_1000_conversations(self) -> None:
        now = timezone.now()

        def add(n: int) -> None:
            for _ in range(n):
                student = StudentFactory.build()
                student.save()
                EnrollmentFactory.create(course=self.course, student=student)
                conversation = Conversation.objects.create(
                    kind="direct", direct_key=f"{self.alice.pk}:{student.pk}"
                )
                Participant.objects.bulk_create(
                    [
                        Participant(conversation=conversation, user=self.alice),
                        Participant(conversation=conversation, user=student),
                    ]
                )
                message = Message.objects.create(
                    conversation=conversation,
                    author=student,
                    body="hello",
                    body_html="<p>hello</p>",
                    version=1,
                )
                Conversation.objects.filter(pk=conversation.pk).update(
                    last_message=message, last_message_at=now, version=1
                )

        client = self.new_client(self.alice)
        assert_constant_queries(client, self.url("inbox"), add, counts=(10, 1000), budget=16)

    def test_teachers_see_where_they_can_start_groups(self) -> None:
        CourseFactory.create(teacher=self.alice, title="Second course")
        response = self.new_client(self.alice).get(self.url("new"))
        self.assertContains(response, "Start a group")
        self.assertContains(response, "Second course")
        self.assertContains(response, "Bob Baker")

    def test_the_people_list_finds_by_name_and_hides_strangers(self) -> None:
        other = CourseFactory.create(teacher=self.carol)
        EnrollmentFactory.create(course=other, student=self.dave)
        response = self.new_client(self.bob).get(self.url("new"), {"q": "erin"})
        self.assertContains(response, "Erin Evans")
        self.assertNotContains(response, "Alice Archer")
        everyone = self.new_client(self.bob).get(self.url("new"))
        self.assertNotContains(everyone, "Dave")
        self.assertNotContains(everyone, "Carol")
        self.assertNotContains(everyone, "Start a group")
