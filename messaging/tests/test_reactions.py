"""Reactions from a fixed set, toggled on and off, counted per emoji."""

from messaging import selectors
from messaging.models import Reaction
from messaging.tests.kit import MessagingTestCase


class ReactionTests(MessagingTestCase):
    def react(self, user, message, emoji: str = "👍"):
        return self.new_client(user).post(self.url("react", message.pk), {"emoji": emoji})

    def test_it_toggles_a_reaction(self) -> None:
        message = self.say(self.alice, "Class moved to Thursday")
        assert self.react(self.bob, message).status_code == 302
        assert Reaction.objects.filter(message=message, user=self.bob, emoji="👍").exists()
        self.react(self.bob, message)
        assert not Reaction.objects.exists()

    def test_it_counts_each_emoji_and_marks_mine(self) -> None:
        message = self.say(self.alice, "Great work today")
        self.react(self.bob, message, "🎉")
        self.react(self.erin, message, "🎉")
        self.react(self.erin, message, "❤️")
        page = self.page(self.bob).content.decode()
        assert 'aria-pressed="true"' in page
        rows = selectors.history(self.channel, self.bob).rows
        reactions = {r.emoji: (r.count, r.mine) for r in rows[0].reactions}
        assert reactions == {"🎉": (2, True), "❤️": (1, False)}

    def test_only_the_fixed_set_is_accepted(self) -> None:
        message = self.say(self.alice, "hi")
        response = self.react(self.bob, message, "💩")
        self.assertContains(response, "Pick one of the reactions offered", status_code=400)
        assert not Reaction.objects.exists()

    def test_a_reaction_moves_the_versions_for_the_poll(self) -> None:
        message = self.say(self.alice, "hi")
        self.react(self.bob, message)
        message.refresh_from_db()
        self.channel.refresh_from_db()
        assert message.version == self.channel.version == 2

    def test_with_htmx_it_answers_204_and_asks_the_poller(self) -> None:
        message = self.say(self.alice, "hi")
        response = self.htmx(self.bob).post(self.url("react", message.pk), {"emoji": "🙏"})
        assert response.status_code == 204
        assert response["HX-Trigger"] == "messaging:refresh"

    def test_outsiders_cannot_react(self) -> None:
        message = self.say(self.alice, "hi")
        assert self.react(self.dave, message).status_code == 404
