"""Malformed numbers in a messaging address, query string or form answer 4xx, never 500."""

from messaging.models import Conversation
from messaging.tests.kit import MessagingTestCase

# Larger than any id a 64-bit column holds; the URL patterns accept any run of digits.
HUGE = "99999999999999999999"
# Superscripts pass `str.isdigit` but not `int()`; `int()` reads Arabic-Indic and
# full-width digits, signs and spaces, which no address of ours contains.
NOT_QUITE_DIGITS = ["²", "\u0661\u0662", "\uff11\uff12", "-1", "+1", " 1", "1e3", HUGE]


class QueryStringNumberTests(MessagingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.say(self.alice, "hello")

    def test_it_refuses_malformed_history_cursors(self) -> None:
        for raw in NOT_QUITE_DIGITS:
            with self.subTest(before=raw):
                assert self.page(self.bob, before=raw).status_code == 400

    def test_it_refuses_malformed_poll_positions(self) -> None:
        client = self.htmx(self.bob)
        for name in ("after", "v"):
            for raw in NOT_QUITE_DIGITS:
                with self.subTest(name=name, raw=raw):
                    response = client.get(self.url("poll", self.channel.pk), {name: raw})
                    assert response.status_code == 400

    def test_it_refuses_a_malformed_inbox_page(self) -> None:
        client = self.new_client(self.bob)
        for raw in NOT_QUITE_DIGITS:
            with self.subTest(page=raw):
                assert client.get(self.url("inbox"), {"page": raw}).status_code == 400

    def test_it_still_reads_plain_numbers_and_empty_values(self) -> None:
        message = self.say(self.alice, "Zanzibar")
        response = self.page(self.bob, before=str(message.pk))
        self.assertContains(response, "hello")
        self.assertNotContains(response, "Zanzibar")
        assert self.page(self.bob, before="").status_code == 200
        client = self.new_client(self.bob)
        assert client.get(self.url("inbox"), {"page": "1"}).status_code == 200


class HugeIdTests(MessagingTestCase):
    def test_every_address_with_an_id_too_large_is_not_found(self) -> None:
        message = self.say(self.alice, "hello")
        channel = self.channel.pk
        reads = [
            f"/messages/{HUGE}/",
            f"/messages/{HUGE}/poll/",
            f"/messages/{HUGE}/people/",
            f"/messages/with/{HUGE}/",
            f"/messages/message/{HUGE}/edit/",
        ]
        writes = [
            f"/messages/{HUGE}/post/",
            f"/messages/{channel}/people/{HUGE}/mute/",
            f"/messages/message/{HUGE}/edit/",
            f"/messages/message/{HUGE}/delete/",
            f"/messages/message/{HUGE}/react/",
        ]
        client = self.new_client(self.alice)
        for url in reads:
            with self.subTest(url=url):
                assert client.get(url).status_code == 404
        for url in writes:
            with self.subTest(url=url):
                assert client.post(url, {"body": "x", "emoji": "👍"}).status_code == 404
        assert message.pk

    def test_the_group_form_refuses_a_student_id_too_large(self) -> None:
        client = self.new_client(self.alice)
        for raw in (HUGE, "²", "-1"):
            with self.subTest(student=raw):
                response = client.post(
                    self.url("new_group", "studio"), {"students": [raw, str(self.bob.pk)]}
                )
                self.assertContains(response, "Select a valid choice.", status_code=400)
        assert not Conversation.objects.filter(kind=Conversation.Kind.GROUP).exists()
