"""History: the newest 50 first, older pages on scroll, the same queries however long."""

from typing import Any

from django.urls import reverse
from django.utils import timezone

from core import markdown
from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging import services
from messaging.models import Conversation, Message, Reaction
from messaging.tests.kit import MessagingTestCase
from tests.base import count_queries


class HistoryTests(MessagingTestCase):
    def fill(self, n: int, conversation: Conversation | None = None) -> None:
        """Add n messages at once, alternating authors, some with reactions, unread by bob."""
        conversation = conversation or self.channel
        now = timezone.now()
        start = Message.objects.filter(conversation=conversation).count()
        messages = Message.objects.bulk_create(
            Message(
                conversation=conversation,
                author=self.alice if (start + i) % 2 else self.bob,
                body=f"message {start + i}",
                body_html=f"<p>message {start + i}</p>",
                html_version=markdown.RENDERER_VERSION,
                created_at=now,
                version=start + i + 1,
            )
            for i in range(n)
        )
        Reaction.objects.bulk_create(
            Reaction(message=m, user=self.erin, emoji="👍") for m in messages[::10]
        )
        last = Message.objects.filter(conversation=conversation).latest("pk")
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message=last, last_message_at=now, version=last.version
        )

    def test_it_shows_the_newest_50_newest_first(self) -> None:
        self.fill(120)
        response = self.page(self.bob)
        rows = response.context["page"].rows
        assert [r.message.body for r in rows][:2] == ["message 119", "message 118"]
        assert len(rows) == 50
        content = response.content.decode()
        assert content.index("message 119") < content.index("message 70")
        self.assertNotContains(response, "message 69<")
        self.assertContains(response, f"?before={rows[-1].message.pk}")

    def test_older_pages_load_as_a_fragment_on_scroll(self) -> None:
        self.fill(120)
        oldest_shown = self.page(self.bob).context["page"].rows[-1].message.pk
        response = self.htmx(self.bob).get(
            self.url("conversation", self.channel.pk), {"before": oldest_shown}
        )
        assert response.status_code == 200
        self.assertTemplateUsed(response, "messaging/_older.html")
        self.assertContains(response, "message 69<")
        self.assertNotContains(response, "message 70<")
        self.assertContains(response, 'hx-trigger="intersect once"')

    def test_the_first_page_says_where_it_starts(self) -> None:
        self.fill(3)
        self.assertContains(self.page(self.bob), "The conversation starts here.")

    def test_without_javascript_older_pages_are_plain_links(self) -> None:
        self.fill(60)
        first = Message.objects.order_by("pk").first()
        assert first is not None
        response = self.page(self.bob, before=str(first.pk + 10))
        self.assertContains(response, "Jump to the latest")
        self.assertContains(response, "message 0<")

    def test_10000_messages_open_with_the_same_queries_as_50(self) -> None:
        # Two course channels in the same state for bob, but for their length.
        other = CourseFactory.create(teacher=self.alice, slug="other")
        EnrollmentFactory.create(course=other, student=self.bob)
        small = services.get_or_create_channel(course=other)
        self.fill(50, small)
        self.fill(10_000)
        for conversation in (small, self.channel):
            self.say(self.alice, "new", conversation)
        client = self.new_client(self.bob)
        client.get(reverse("dashboard"))  # the session's own first-request work
        counts = {}
        for name, conversation in (("small", small), ("big", self.channel)):
            url = self.url("conversation", conversation.pk)

            def visit(url: str = url) -> Any:
                return client.get(url)

            first, _, response = count_queries(visit)
            again, _, _ = count_queries(visit)
            assert len(response.context["page"].rows) == 50
            counts[name] = (first, again)
        assert counts["small"] == counts["big"], counts
        assert counts["big"][0] <= 21

    def test_a_long_history_keeps_its_query_count_as_it_grows(self) -> None:
        """Both when the page is built afresh (a new version) and when it is kept."""
        client = self.new_client(self.bob)
        url = self.url("conversation", self.channel.pk)
        client.get(reverse("dashboard"))  # the session's own first-request work
        counts = []
        for n in (50, 1_950):
            self.fill(n)  # a new version: the next view builds the page
            last = Message.objects.filter(conversation=self.channel).latest("pk")
            services.mark_read(conversation=self.channel, user=self.bob, up_to=last.pk)
            built, built_sql, _ = count_queries(lambda: client.get(url))
            kept, _, _ = count_queries(lambda: client.get(url))
            counts.append((built, kept))
            assert built <= 20, "\n".join(built_sql)
        assert counts[0] == counts[1]
        assert counts[0][1] < counts[0][0]

    def test_an_empty_conversation_teaches_what_to_do(self) -> None:
        response = self.page(self.bob)
        self.assertContains(response, "No messages yet")
        self.assertContains(response, "Say hello")
