"""Posting: Markdown rendered safely, a size limit, and both with and without JavaScript."""

from django.test import override_settings

from messaging.models import Conversation, Message
from messaging.tests.kit import MessagingTestCase


class PostingTests(MessagingTestCase):
    def post(self, user, body: str, htmx: bool = False):
        client = self.htmx(user) if htmx else self.new_client(user)
        return client.post(self.url("post", self.channel.pk), {"body": body})

    def test_it_posts_and_comes_back_to_the_conversation_without_javascript(self) -> None:
        response = self.post(self.bob, "Hello **everyone**")
        assert response.status_code == 302
        assert response["Location"] == self.url("conversation", self.channel.pk)
        message = Message.objects.get()
        assert message.author == self.bob
        assert message.body_html == "<p>Hello <strong>everyone</strong></p>"
        self.assertContains(self.page(self.alice), "Hello <strong>everyone</strong>", html=True)

    def test_with_htmx_it_answers_an_empty_composer_and_asks_the_poller(self) -> None:
        response = self.post(self.bob, "Quick one", htmx=True)
        assert response.status_code == 200
        assert response["HX-Trigger"] == "messaging:refresh"
        self.assertContains(response, 'id="composer"')
        self.assertNotContains(response, "Quick one")
        assert Message.objects.filter(body="Quick one").exists()

    def test_it_keeps_the_conversation_up_to_date(self) -> None:
        message = self.say(self.bob, "First")
        self.channel.refresh_from_db()
        assert self.channel.last_message == message
        assert self.channel.version == message.version == 1
        second = self.say(self.erin, "Second")
        self.channel.refresh_from_db()
        assert self.channel.last_message == second
        assert second.version == 2

    def test_links_get_nofollow_noopener(self) -> None:
        self.post(self.bob, "See [the guide](https://example.com/guide)")
        html = Message.objects.get().body_html
        assert 'href="https://example.com/guide"' in html
        assert 'rel="nofollow noopener"' in html

    def test_an_empty_message_is_refused(self) -> None:
        response = self.post(self.bob, "   ")
        self.assertContains(response, "Write a message or attach a file.", status_code=400)
        assert not Message.objects.exists()

    def test_a_message_over_the_size_limit_is_refused_with_its_length(self) -> None:
        response = self.post(self.bob, "x" * 10_001)
        self.assertContains(
            response,
            "Messages can be at most 10,000 characters; this one has 10,001",
            status_code=400,
        )
        assert not Message.objects.exists()
        assert self.post(self.bob, "x" * 10_000).status_code == 302

    def test_a_refused_message_keeps_what_was_typed(self) -> None:
        response = self.post(self.bob, "y" * 10_001, htmx=True)
        assert response.status_code == 400
        self.assertContains(response, "y" * 10_001, status_code=400)

    @override_settings(MESSAGE_MAX_CHARS=20)
    def test_the_limit_comes_from_the_settings(self) -> None:
        self.assertContains(self.post(self.bob, "z" * 21), "at most 20 characters", status_code=400)

    def test_the_author_has_read_their_own_message(self) -> None:
        self.say(self.alice, "From the teacher")
        self.say(self.bob, "From bob")
        from messaging import selectors

        assert selectors.unread_in(self.channel, self.bob) == 0
        assert selectors.unread_in(self.channel, self.alice) == 1

    def test_outsiders_cannot_post(self) -> None:
        assert self.post(self.dave, "Let me in").status_code == 404
        assert not Message.objects.exists()

    def test_posting_needs_a_post(self) -> None:
        response = self.new_client(self.bob).get(self.url("post", self.channel.pk))
        assert response.status_code == 405
        assert Conversation.objects.get(pk=self.channel.pk).version == 0
