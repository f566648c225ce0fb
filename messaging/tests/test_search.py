"""Search within one conversation (a case-insensitive substring match)."""

from messaging import services
from messaging.tests.kit import MessagingTestCase


class SearchTests(MessagingTestCase):
    def test_it_finds_messages_containing_the_words(self) -> None:
        self.say(self.alice, "Bring your PALETTE on Tuesday")
        self.say(self.bob, "Which brushes?")
        self.say(self.erin, "I forgot my palette")
        response = self.page(self.bob, q="palette")
        bodies = [r.message.body for r in response.context["page"].rows]
        assert bodies == ["I forgot my palette", "Bring your PALETTE on Tuesday"]
        self.assertContains(response, "Messages containing “palette”")
        self.assertContains(response, "Back to the conversation")

    def test_it_says_when_nothing_matches(self) -> None:
        self.say(self.alice, "hello")
        self.assertContains(self.page(self.bob, q="goodbye"), "No message contains “goodbye”")

    def test_it_skips_deleted_messages(self) -> None:
        message = self.say(self.bob, "secret palette")
        services.delete_message(message=message, by=self.bob)
        assert self.page(self.bob, q="palette").context["page"].rows == []

    def test_it_searches_only_this_conversation(self) -> None:
        conversation = self.direct(self.alice, self.erin)
        self.say(self.alice, "palette in private", conversation)
        assert self.page(self.bob, q="palette").context["page"].rows == []

    def test_search_results_do_not_mark_anything_read(self) -> None:
        self.say(self.alice, "palette")
        self.page(self.bob, q="palette")
        from messaging import selectors

        assert selectors.unread_in(self.channel, self.bob) == 1
