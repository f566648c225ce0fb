"""Live updates by polling: an idle poll is a bodiless 304 from the cache (one query without it).

A changed poll hands out news rendered once for everyone at that version,
with each viewer's own touches put in; these tests check it reads exactly as
if it had been rendered for that viewer alone.
"""

import re
from typing import cast

from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import RequestFactory

from core import cache as shared_cache
from core.http import AuthedRequest
from core.testing import requires_redis
from messaging import access, live, selectors, services
from messaging.models import Conversation
from messaging.tests.kit import MessagingTestCase
from messaging.views import _message_context, _poll_context
from tests.base import count_queries

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


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

    def test_an_idle_poll_is_a_304_from_the_cache_or_one_query(self) -> None:
        url, etag = self.open_page()
        self.poll(url, etag)  # the first poll checks membership in the database and remembers it
        _total, sql, response = count_queries(lambda: self.poll(url, etag))
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
        assert sum("messaging_" in q for q in sql) == (0 if shared_cache.is_shared() else 1)
        # Nothing else but what every signed-in request reads, and nothing written.
        assert all(q.startswith("SELECT") for q in sql)

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
        assert selectors.unread_in(self.channel, self.bob) == 0

    def test_reactions_and_edits_come_as_replacements(self) -> None:
        url, etag = self.open_page()
        with self.captureOnCommitCallbacks(execute=True):
            services.toggle_reaction(message=self.first, user=self.erin, emoji="🎉")
        response = self.poll(url, etag)
        assert response.status_code == 200
        self.assertContains(response, f'id="message-{self.first.pk}"')
        self.assertContains(response, 'hx-swap-oob="true"')
        self.assertContains(response, "🎉")
        with self.captureOnCommitCallbacks(execute=True):
            services.edit_message(message=self.first, editor=self.alice, body="Welcome, everyone")
        changed = self.poll(url, response["ETag"])
        self.assertContains(changed, "Welcome, everyone")

    def test_a_deletion_comes_as_a_placeholder(self) -> None:
        url, etag = self.open_page()
        with self.captureOnCommitCallbacks(execute=True):
            services.delete_message(message=self.first, by=self.alice)
        self.assertContains(self.poll(url, etag), "Message deleted")

    def test_a_changed_poll_leaves_the_badge_to_its_own_poll(self) -> None:
        url, etag = self.open_page()
        self.say(self.erin, "in the channel")
        response = self.poll(url, etag)
        assert response.status_code == 200
        self.assertNotContains(response, 'id="nav-unread"')

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


class SharedNewsTests(MessagingTestCase):
    """One rendering of a poll's news, personalised, reads as each viewer's own."""

    def setUp(self) -> None:
        super().setUp()
        self.first = self.say(self.alice, "Welcome")
        self.since = Conversation.objects.get(pk=self.channel.pk).version
        self.after = self.first.pk

    def news_for(self, user) -> str:
        client = self.htmx(user)
        url = f"{self.url('poll', self.channel.pk)}?after={self.after}&v={self.since}"
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    def rendered_alone_for(self, user) -> str:
        """Render the same news the old way: for this one viewer, with their request."""
        request = RequestFactory().get("/")
        request.user = user
        conversation = Conversation.objects.select_related("course").get(pk=self.channel.pk)
        changes = selectors.changes_since(conversation, user, after=self.after, version=self.since)
        newest = changes.new[0].message.pk if changes.new else 0
        context = {
            **_message_context(
                cast(AuthedRequest, request), conversation, selectors.HistoryPage([], False), ""
            ),
            "new_rows": changes.new,
            "changed_rows": changes.changed,
            "poll": _poll_context(conversation, user, after=max(self.after, newest)),
        }
        return render_to_string("messaging/_poll.html", context, request=request)

    def test_each_viewer_gets_what_a_rendering_for_them_alone_would_show(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            mine = services.post_message(
                conversation=self.channel, author=self.bob, body="Mine **bold**", notify=False
            )
            services.toggle_reaction(message=mine, user=self.erin, emoji="🎉")
            services.toggle_reaction(message=mine, user=self.bob, emoji="👍")
            services.toggle_reaction(message=self.first, user=self.bob, emoji="🎉")
            services.edit_message(message=self.first, editor=self.alice, body="Welcome all")
        for viewer in (self.bob, self.erin, self.alice):
            with self.subTest(viewer=viewer.first_name):
                shared = _CSRF.sub("TOKEN", self.news_for(viewer))
                alone = _CSRF.sub("TOKEN", self.rendered_alone_for(viewer))
                assert "\x00" not in shared
                self.assertHTMLEqual(shared, alone)

    def test_the_viewers_own_touches_differ(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            mine = services.post_message(
                conversation=self.channel, author=self.bob, body="Mine", notify=False
            )
            services.toggle_reaction(message=mine, user=self.bob, emoji="👍")
        as_bob, as_erin, as_alice = (self.news_for(u) for u in (self.bob, self.erin, self.alice))
        edit_link = self.url("edit", mine.pk)
        assert edit_link in as_bob
        assert edit_link not in as_erin
        assert edit_link not in as_alice
        assert 'aria-pressed="true"' in as_bob
        assert 'aria-pressed="true"' not in as_erin
        # The teacher moderates the channel: delete and mute, but not edit.
        assert self.url("delete", mine.pk) in as_alice
        assert "Mute Bob" in as_alice
        assert self.url("delete", mine.pk) not in as_erin

    def test_the_news_is_read_from_the_database_once_for_everyone(self) -> None:
        self.say(self.alice, "Question")
        self.news_for(self.bob)
        _, sql, _ = count_queries(lambda: self.news_for(self.erin))
        reads = [q for q in sql if 'FROM "messaging_message"' in q or "messaging_reaction" in q]
        assert reads == []

    def test_each_viewer_is_checked_for_membership_before_any_news(self) -> None:
        self.say(self.erin, "For members")
        self.news_for(self.bob)
        outsider = self.htmx(self.dave)
        url = f"{self.url('poll', self.channel.pk)}?after={self.after}&v={self.since}"
        assert outsider.get(url).status_code == 404

    @requires_redis
    def test_remembered_membership_never_hands_out_news(self) -> None:
        client = self.htmx(self.erin)
        url = self.url("poll", self.channel.pk)
        first = client.get(f"{url}?after={self.after}&v={self.since}")
        assert first.status_code == 200
        assert cache.get(live.member_key(self.channel.pk, self.erin.pk)) == 1
        self.course.enrollments.filter(student=self.erin).update(status="left")
        # Nothing changed: the remembered membership vouches for an empty 304.
        assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
        self.say(self.alice, "After you left")
        assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 404


@requires_redis
class VersionCopyTests(MessagingTestCase):
    def test_a_committed_change_raises_the_copy_and_a_rolled_back_one_does_not(self) -> None:
        self.say(self.alice, "one")
        version = Conversation.objects.get(pk=self.channel.pk).version
        assert cache.get(live.version_key(self.channel.pk)) == version
        with self.captureOnCommitCallbacks(execute=False):
            services.post_message(conversation=self.channel, author=self.alice, body="x")
        assert cache.get(live.version_key(self.channel.pk)) == version

    def test_the_copy_never_goes_backwards(self) -> None:
        key = live.version_key(self.channel.pk)
        shared_cache.raise_to(key, 7, timeout=60)
        shared_cache.raise_to(key, 5, timeout=60)
        assert cache.get(key) == 7
        shared_cache.raise_all_to({key: 6, live.version_key(0): 3}, timeout=60)
        assert cache.get(key) == 7
        assert cache.get(live.version_key(0)) == 3
        shared_cache.raise_to(key, 9, timeout=60)
        assert cache.get(key) == 9

    def test_the_teacher_is_a_moderator_only_in_their_own_channel(self) -> None:
        assert access.is_channel_teacher(self.alice, self.channel)
        assert not access.is_channel_teacher(self.bob, self.channel)


class SharedChannelPageTests(MessagingTestCase):
    """A channel's newest page is rendered once per version and reads as each viewer's own."""

    def list_on_page(self, user) -> str:
        html = self.new_client(user).get(self.url("conversation", self.channel.pk)).content
        text = html.decode()
        start = text.index('id="message-list">') + len('id="message-list">')
        return text[start : text.index("</ol>", start)]

    def rendered_alone_for(self, user) -> str:
        request = RequestFactory().get("/")
        request.user = user
        found = access.get_conversation_for_member(user, self.channel.pk)
        state = services.state_for(conversation=found, user=user)
        page = selectors.history(
            found,
            user,
            read_up_to=state.last_read_message_id,
            member_since=getattr(found, "member_since", None),
        )
        context = _message_context(cast(AuthedRequest, request), found, page, "")
        return render_to_string("messaging/_older.html", context, request=request)

    def test_each_viewer_sees_their_own_new_messages_controls_and_reactions(self) -> None:
        self.say(self.alice, "Read by everyone")
        self.page(self.bob)  # bob has read up to here
        with self.captureOnCommitCallbacks(execute=True):
            mine = services.post_message(
                conversation=self.channel, author=self.bob, body="From Bob", notify=False
            )
            services.toggle_reaction(message=mine, user=self.erin, emoji="🎉")
        self.say(self.alice, "New to Bob")
        shown = {}
        for viewer in (self.erin, self.alice, self.bob):
            with self.subTest(viewer=viewer.first_name):
                # What is new to them is read before the page marks it read.
                expected = _CSRF.sub("TOKEN", self.rendered_alone_for(viewer))
                shown[viewer.pk] = _CSRF.sub("TOKEN", self.list_on_page(viewer))
                self.assertHTMLEqual(shown[viewer.pk], expected)
        assert shown[self.erin.pk].count("is-new") == 3
        assert shown[self.bob.pk].count("is-new") == 1

    def test_the_page_reads_the_messages_once_per_version(self) -> None:
        self.say(self.alice, "Hello")
        self.page(self.bob)
        _, sql, _ = count_queries(lambda: self.page(self.erin))
        assert not any('ORDER BY "messaging_message"."id" DESC' in q for q in sql)
