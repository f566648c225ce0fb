"""Live updates by polling: an idle poll is one query and a bodiless 304."""

from django.urls import reverse

from messaging import services
from messaging.models import Conversation
from messaging.tests.kit import MessagingTestCase
from tests.base import count_queries


class PollTests(MessagingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.first = self.say(self.alice, "Welcome")
        self.client_bob = self.htmx(self.bob)

    def open_page(self):
        """Load the page as bob; return the poll URL and the ETag it carries."""
        response = self.client_bob.get(self.url("conversation", self.channel.pk))
        poller = response.context["poll"]
        url = f"{self.url('poll', self.channel.pk)}?after={poller['after']}&v={poller['version']}"
        return url, poller["etag"]

    def poll(self, url: str, etag: str):
        return self.client_bob.get(url, headers={"If-None-Match": etag})

    def test_an_idle_poll_is_a_304_with_one_query_of_its_own(self) -> None:
        url, etag = self.open_page()
        self.poll(url, etag)  # the session's first request does its own bookkeeping
        total, sql, response = count_queries(lambda: self.poll(url, etag))
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
        assert sum("messaging_" in q for q in sql) == 1
        # Everything else is the middleware every page pays: the same as a bare health check.
        health, _, _ = count_queries(lambda: self.client_bob.get(reverse("healthz")))
        assert total == health

    def test_a_new_message_comes_with_a_new_etag_and_then_idles_again(self) -> None:
        url, etag = self.open_page()
        self.say(self.erin, "Question about homework")
        response = self.poll(url, etag)
        assert response.status_code == 200
        self.assertContains(response, "Question about homework")
        self.assertContains(response, 'hx-swap-oob="afterbegin:#message-list"')
        assert response["ETag"] != etag
        self.assertContains(response, 'id="poller"')
        next_url = response.context["poll"]
        assert next_url["after"] == self.channel.messages.latest("pk").pk
        poll_url = self.url("poll", self.channel.pk)
        again = self.client_bob.get(
            f"{poll_url}?after={next_url['after']}&v={next_url['version']}",
            headers={"If-None-Match": response["ETag"]},
        )
        assert again.status_code == 304

    def test_seeing_a_new_message_in_a_poll_marks_it_read(self) -> None:
        url, etag = self.open_page()
        self.say(self.erin, "New")
        self.poll(url, etag)
        from messaging import selectors

        assert selectors.unread_in(self.channel, self.bob) == 0

    def test_reactions_and_edits_come_as_replacements(self) -> None:
        url, etag = self.open_page()
        services.toggle_reaction(message=self.first, user=self.erin, emoji="🎉")
        response = self.poll(url, etag)
        assert response.status_code == 200
        self.assertContains(response, f'id="message-{self.first.pk}"')
        self.assertContains(response, 'hx-swap-oob="true"')
        self.assertContains(response, "🎉")
        services.edit_message(message=self.first, editor=self.alice, body="Welcome, everyone")
        changed = self.poll(url, response["ETag"])
        self.assertContains(changed, "Welcome, everyone")

    def test_a_deletion_comes_as_a_placeholder(self) -> None:
        url, etag = self.open_page()
        services.delete_message(message=self.first, by=self.alice)
        self.assertContains(self.poll(url, etag), "Message deleted")

    def test_the_unread_badge_comes_along(self) -> None:
        url, etag = self.open_page()
        direct = self.direct(self.alice, self.bob)
        self.say(self.alice, "psst", direct)
        self.say(self.erin, "in the channel")
        response = self.poll(url, etag)
        self.assertContains(response, 'id="nav-unread"')
        self.assertContains(response, ", 1 unread")

    def test_turning_receipts_off_changes_the_etag(self) -> None:
        url, etag = self.open_page()
        self.bob.send_read_receipts = False
        self.bob.save(update_fields=["send_read_receipts"])
        assert self.poll(url, etag).status_code == 200

    def test_a_long_absence_asks_for_a_reload(self) -> None:
        url, etag = self.open_page()
        for n in range(101):
            self.say(self.erin, f"m{n}")
        response = self.poll(url, etag)
        assert response.status_code == 204
        assert response["HX-Refresh"] == "true"

    def test_outsiders_get_404_even_with_a_guessed_etag(self) -> None:
        version = Conversation.objects.get(pk=self.channel.pk).version
        client = self.htmx(self.dave)
        response = client.get(
            self.url("poll", self.channel.pk),
            headers={"If-None-Match": f'W/"c{self.channel.pk}.v{version}.r1"'},
        )
        assert response.status_code == 404

    def test_the_page_carries_the_poller_with_its_etag(self) -> None:
        response = self.new_client(self.bob).get(self.url("conversation", self.channel.pk))
        self.assertContains(
            response, 'hx-trigger="every 3s, messaging:refresh from:body, lectern:visible"'
        )
        self.assertContains(response, "If-None-Match")

    def test_the_poll_follows_the_same_membership_as_the_page(self) -> None:
        direct = self.direct(self.alice, self.erin)
        group = services.create_group(teacher=self.alice, course=self.course, students=[self.erin])
        for conversation in (direct, group):
            assert self.htmx(self.erin).get(self.url("poll", conversation.pk)).status_code == 200
            assert self.htmx(self.bob).get(self.url("poll", conversation.pk)).status_code == 404
        self.course.enrollments.filter(student=self.erin).update(status="left")
        assert self.htmx(self.erin).get(self.url("poll", group.pk)).status_code == 404
        assert self.htmx(self.erin).get(self.url("poll", self.channel.pk)).status_code == 404
        assert self.htmx(self.erin).get(self.url("poll", direct.pk)).status_code == 200
