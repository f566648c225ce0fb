"""Authors edit and delete their messages; the conversation shows "edited" and "deleted"."""

from messaging.models import Message, Reaction
from messaging.tests.kit import MessagingTestCase


class EditTests(MessagingTestCase):
    def test_the_author_edits_and_everyone_sees_it_marked_edited(self) -> None:
        message = self.say(self.bob, "Helo")
        client = self.new_client(self.bob)
        assert client.get(self.url("edit", message.pk)).status_code == 200
        response = client.post(self.url("edit", message.pk), {"body": "Hello *all*"})
        assert response.status_code == 302
        assert response["Location"].endswith(f"#message-{message.pk}")
        message.refresh_from_db()
        assert message.body_html == "<p>Hello <em>all</em></p>"
        assert message.edited_at is not None
        page = self.page(self.alice)
        self.assertContains(page, "Hello <em>all</em>", html=True)
        self.assertContains(page, 'class="msg-edited"')

    def test_an_edit_moves_the_conversation_version(self) -> None:
        message = self.say(self.bob, "v1")
        self.new_client(self.bob).post(self.url("edit", message.pk), {"body": "v2"})
        message.refresh_from_db()
        self.channel.refresh_from_db()
        assert message.version == self.channel.version == 2

    def test_others_cannot_edit_it(self) -> None:
        message = self.say(self.bob, "Mine")
        response = self.new_client(self.alice).post(self.url("edit", message.pk), {"body": "Hers"})
        self.assertContains(response, "Only the person who wrote a message", status_code=403)
        assert self.new_client(self.dave).get(self.url("edit", message.pk)).status_code == 404
        message.refresh_from_db()
        assert message.body == "Mine"

    def test_an_edit_keeps_the_size_limit(self) -> None:
        message = self.say(self.bob, "short")
        response = self.new_client(self.bob).post(
            self.url("edit", message.pk), {"body": "x" * 10_001}
        )
        self.assertContains(response, "at most 10,000 characters", status_code=400)


class DeleteTests(MessagingTestCase):
    def test_the_author_deletes_and_a_placeholder_remains(self) -> None:
        message = self.say(self.bob, "Oops, wrong channel")
        Reaction.objects.create(message=message, user=self.alice, emoji="👍")
        response = self.new_client(self.bob).post(self.url("delete", message.pk))
        assert response.status_code == 302
        message.refresh_from_db()
        assert message.deleted_at is not None
        assert message.deleted_by == self.bob
        assert message.body == message.body_html == ""
        assert not Reaction.objects.exists()
        page = self.page(self.alice)
        self.assertNotContains(page, "Oops, wrong channel")
        self.assertContains(page, "Message deleted")

    def test_with_htmx_it_answers_204_and_asks_the_poller(self) -> None:
        message = self.say(self.bob, "bye")
        response = self.htmx(self.bob).post(self.url("delete", message.pk))
        assert response.status_code == 204
        assert response["HX-Trigger"] == "messaging:refresh"

    def test_a_classmate_cannot_delete_it(self) -> None:
        message = self.say(self.bob, "Mine")
        response = self.new_client(self.erin).post(self.url("delete", message.pk))
        self.assertContains(response, "only your own messages", status_code=403)
        assert Message.objects.get(pk=message.pk).deleted_at is None

    def test_a_teacher_cannot_delete_in_a_direct_conversation(self) -> None:
        conversation = self.direct(self.bob, self.alice)
        message = self.say(self.bob, "Between us", conversation)
        response = self.new_client(self.alice).post(self.url("delete", message.pk))
        assert response.status_code == 403

    def test_a_deleted_message_cannot_be_edited_or_reacted_to(self) -> None:
        message = self.say(self.bob, "gone")
        self.new_client(self.bob).post(self.url("delete", message.pk))
        assert self.new_client(self.bob).get(self.url("edit", message.pk)).status_code == 400
        response = self.new_client(self.alice).post(self.url("react", message.pk), {"emoji": "👍"})
        assert response.status_code == 400
        assert not Reaction.objects.exists()

    def test_deleting_twice_is_harmless(self) -> None:
        message = self.say(self.bob, "twice")
        client = self.new_client(self.bob)
        client.post(self.url("delete", message.pk))
        assert client.post(self.url("delete", message.pk)).status_code == 302
