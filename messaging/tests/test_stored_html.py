"""Message HTML stored by an older renderer is rendered again, with today's rules, when read."""

from django.db.models import F

from core import markdown
from messaging import services
from messaging.models import Conversation, Message
from messaging.tests.kit import MessagingTestCase
from tests.base import count_queries

# What a laxer sanitiser of the past might have let through.
UNSAFE = '<p>Look <b>here</b></p><img src=x onerror="alert(1)"><script>alert(2)</script>'


def statements(sql: list[str]) -> list[str]:
    """Leave out the savepoints around each write, which only tests' transactions add."""
    return [q for q in sql if "SAVEPOINT" not in q]


class StoredHtmlTests(MessagingTestCase):
    def stored_long_ago(self, body: str = "Look **here**", html: str = UNSAFE) -> Message:
        message = self.say(self.alice, body)
        Message.objects.filter(pk=message.pk).update(body_html=html, html_version=0)
        return message

    def test_new_messages_record_the_renderer_that_made_their_html(self) -> None:
        message = self.say(self.alice, "Look **here**")
        assert message.html_version == markdown.RENDERER_VERSION
        edited = services.edit_message(message=message, editor=self.alice, body="Now _here_")
        assert edited.html_version == markdown.RENDERER_VERSION

    def test_an_old_message_with_unsafe_html_is_shown_clean(self) -> None:
        message = self.stored_long_ago()
        response = self.page(self.bob)
        content = response.content.decode()
        assert "onerror" not in content
        assert "alert(" not in content
        self.assertContains(response, "<p>Look <strong>here</strong></p>", html=True)
        message.refresh_from_db()
        assert message.body_html == "<p>Look <strong>here</strong></p>"
        assert message.html_version == markdown.RENDERER_VERSION

    def test_search_results_and_polls_are_shown_clean_too(self) -> None:
        self.stored_long_ago()
        found = self.page(self.bob, q="Look")
        assert "onerror" not in found.content.decode()
        self.stored_long_ago()
        polled = self.htmx(self.bob).get(self.url("poll", self.channel.pk), {"after": "0"})
        assert polled.status_code == 200
        assert "onerror" not in polled.content.decode()
        assert not Message.objects.filter(html_version__lt=markdown.RENDERER_VERSION).exists()

    def test_a_page_of_old_messages_is_rendered_again_in_one_query(self) -> None:
        for n in range(50):
            self.stored_long_ago(body=f"Old message {n}")
        client = self.new_client(self.bob)
        client.get(self.url("conversation", self.channel.pk))  # first-visit work: session, state
        Message.objects.update(html_version=0, body_html=UNSAFE)
        # As after an upgrade: nothing rendered by another version of the renderer is kept.
        Conversation.objects.filter(pk=self.channel.pk).update(version=F("version") + 1)
        _, first, response = count_queries(
            lambda: client.get(self.url("conversation", self.channel.pk))
        )
        _, again, _ = count_queries(lambda: client.get(self.url("conversation", self.channel.pk)))
        updates = [q for q in first if q.startswith('UPDATE "messaging_message"')]
        assert len(updates) == 1
        # Rendered again once: the next view finds it stored (and the page kept).
        assert not any(q.startswith('UPDATE "messaging_message"') for q in again)
        assert "onerror" not in response.content.decode()
        self.assertContains(response, "<p>Old message 49</p>", html=True)

    def test_it_never_overwrites_an_edit_made_meanwhile(self) -> None:
        message = self.stored_long_ago()
        read_before_the_edit = Message.objects.get(pk=message.pk)
        services.edit_message(message=message, editor=self.alice, body="Edited **text**")
        services.refresh_html([read_before_the_edit])
        message.refresh_from_db()
        assert message.body_html == "<p>Edited <strong>text</strong></p>"
        assert message.body == "Edited **text**"

    def test_deleted_messages_stay_empty(self) -> None:
        message = self.stored_long_ago()
        services.delete_message(message=message, by=self.alice)
        Message.objects.filter(pk=message.pk).update(html_version=0)
        self.page(self.bob)
        message.refresh_from_db()
        assert message.body_html == ""
