"""The demo data: a lively course channel and a direct conversation, seeded once."""

import io

from django.core.management import call_command

from accounts.models import User
from courses.services import enrolment
from messaging import selectors
from messaging.models import Conversation, Message, Reaction
from tests.base import LecternTestCase


class DemoTests(LecternTestCase):
    def test_seed_demo_fills_the_channel_once(self) -> None:
        call_command("seed_demo", verbosity=0, stdout=io.StringIO())
        channel = Conversation.objects.get(kind="channel", course__slug="watercolour-foundations")
        teacher = User.objects.get(email="teacher@lectern.localhost")
        student = User.objects.get(email="student@lectern.localhost")
        assert Message.objects.filter(conversation=channel).count() >= 12
        authors = set(channel.messages.values_list("author_id", flat=True))
        assert authors == {teacher.pk, student.pk}
        assert Reaction.objects.exists()
        assert Conversation.objects.filter(kind="direct").count() == 1
        counts = (Message.objects.count(), Reaction.objects.count(), Conversation.objects.count())
        call_command("seed_demo", verbosity=0, stdout=io.StringIO())
        assert (
            Message.objects.count(),
            Reaction.objects.count(),
            Conversation.objects.count(),
        ) == counts

    def test_a_student_joining_the_demo_course_finds_its_history_read(self) -> None:
        call_command("seed_demo", verbosity=0, stdout=io.StringIO())
        channel = Conversation.objects.get(kind="channel", course__slug="watercolour-foundations")
        student = User.objects.get(email="student@lectern.localhost")
        # The seeded student has the teacher's latest reminder to read, nothing older.
        assert selectors.unread_in(channel, student) == 1
        assert channel.course is not None
        enrolment.enroll_student(course=channel.course, student=self.dave)
        assert selectors.unread_total(self.dave) == 0
