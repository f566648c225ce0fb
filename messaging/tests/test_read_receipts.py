"""Read receipts: "seen by" in direct messages and small groups, both ways or not at all."""

import re

from courses.tests.factories import EnrollmentFactory
from messaging import services
from messaging.models import Participant
from messaging.tests.kit import MessagingTestCase
from tests.base import StudentFactory


def receipts(response) -> str:
    """Return the text of the page's "seen by" line, or "" when it is hidden."""
    found = re.search(r'<p class="chat-receipts"([^>]*)>(.*?)</p>', response.content.decode(), re.S)
    if found is None or "hidden" in found.group(1):
        return ""
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split())


class ReadReceiptTests(MessagingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.conversation = self.direct(self.alice, self.bob)

    def test_the_sender_sees_when_it_was_read(self) -> None:
        self.say(self.alice, "Did you get the brief?", self.conversation)
        assert receipts(self.page(self.alice, self.conversation)) == ""
        self.page(self.bob, self.conversation)  # bob opens it and reads
        assert receipts(self.page(self.alice, self.conversation)) == "Seen by Bob Baker"

    def test_turning_receipts_off_stops_sending_them(self) -> None:
        self.bob.send_read_receipts = False
        self.bob.save(update_fields=["send_read_receipts"])
        self.say(self.alice, "Hello", self.conversation)
        self.page(self.bob, self.conversation)
        assert receipts(self.page(self.alice, self.conversation)) == ""

    def test_turning_receipts_off_stops_seeing_them(self) -> None:
        self.alice.send_read_receipts = False
        self.alice.save(update_fields=["send_read_receipts"])
        self.say(self.alice, "Hello", self.conversation)
        self.page(self.bob, self.conversation)
        assert receipts(self.page(self.alice, self.conversation)) == ""

    def test_a_reader_without_receipts_does_not_move_the_version(self) -> None:
        self.bob.send_read_receipts = False
        self.bob.save(update_fields=["send_read_receipts"])
        self.say(self.alice, "Hello", self.conversation)
        self.conversation.refresh_from_db()
        before = self.conversation.version
        self.page(self.bob, self.conversation)
        self.conversation.refresh_from_db()
        assert self.conversation.version == before
        assert Participant.objects.get(
            conversation=self.conversation, user=self.bob
        ).last_read_message_id

    def test_a_reader_with_receipts_moves_the_version_once(self) -> None:
        self.say(self.alice, "Hello", self.conversation)
        self.conversation.refresh_from_db()
        before = self.conversation.version
        self.page(self.bob, self.conversation)
        self.page(self.bob, self.conversation)
        self.conversation.refresh_from_db()
        assert self.conversation.version == before + 1

    def test_channels_never_show_receipts(self) -> None:
        self.say(self.alice, "To everyone")
        self.page(self.bob)
        assert receipts(self.page(self.alice)) == ""

    def test_small_groups_show_who_has_seen_it(self) -> None:
        group = services.create_group(
            teacher=self.alice, course=self.course, students=[self.bob, self.erin]
        )
        self.say(self.alice, "Team meeting at 5", group)
        self.page(self.bob, group)
        self.page(self.erin, group)
        assert receipts(self.page(self.alice, group)) == "Seen by Bob Baker and Erin Evans"

    def test_big_groups_do_not(self) -> None:
        students = [StudentFactory.create() for _ in range(10)]
        for student in students:
            EnrollmentFactory.create(course=self.course, student=student)
        group = services.create_group(teacher=self.alice, course=self.course, students=students)
        self.say(self.alice, "Hello all eleven", group)
        self.page(students[0], group)
        assert receipts(self.page(self.alice, group)) == ""
