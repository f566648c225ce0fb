"""Joining a course late: its channel's history is there to read, but none of it is unread."""

import re
from datetime import timedelta

import time_machine
from django.utils import timezone

from courses.models import Enrollment
from courses.services import enrolment
from courses.tests.factories import EnrollmentFactory
from messaging import selectors
from messaging.models import Conversation, Message
from messaging.tests.kit import MessagingTestCase
from tests.base import StudentFactory, assert_constant_queries


class LateJoinerTests(MessagingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.frank = StudentFactory.create(first_name="Frank")
        with time_machine.travel(timezone.now() - timedelta(days=4)):
            EnrollmentFactory.create(course=self.course, student=self.frank)
        with time_machine.travel(timezone.now() - timedelta(days=3)):
            for n in range(26):
                self.say(self.erin if n % 2 else self.bob, f"Backlog {n}")

    def test_it_counts_nothing_from_before_they_joined(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.dave)
        assert selectors.unread_in(self.channel, self.dave) == 0
        assert selectors.unread_total(self.dave) == 0
        inbox = self.new_client(self.dave).get(self.url("inbox"))
        assert [r.conversation.unread for r in inbox.context["rows"]] == [0]
        self.assertNotContains(inbox, "is-unread")

    def test_it_counts_what_arrives_after_they_joined_everywhere_alike(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.dave)
        news = self.say(self.alice, "Welcome, Dave!")
        assert selectors.unread_total(self.dave) == 1
        client = self.new_client(self.dave)
        badge = client.get(self.url("unread"))
        self.assertContains(badge, ", 1 unread")
        inbox = client.get(self.url("inbox"))
        assert inbox.context["rows"][0].conversation.unread == 1
        page = client.get(self.url("conversation", self.channel.pk))
        new_rows = re.findall(r'class="msg is-new"\s+id="message-(\d+)"', page.content.decode())
        assert new_rows == [str(news.pk)]
        self.assertContains(page, "Backlog 25")
        assert selectors.unread_total(self.dave) == 0

    def test_a_muted_late_joiner_still_has_no_backlog(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.dave)
        self.new_client(self.alice).post(
            self.url("mute", self.channel.pk, self.dave.pk), {"muted": "1"}
        )
        assert selectors.unread_total(self.dave) == 0

    def test_someone_who_comes_back_gets_no_backlog_from_while_they_were_away(self) -> None:
        self.page(self.bob)
        bob_in_studio = Enrollment.objects.get(course=self.course, student=self.bob)
        with time_machine.travel(timezone.now() + timedelta(days=1)):
            enrolment.leave_course(enrollment=bob_in_studio)
            self.say(self.alice, "Said while Bob was away")
        with time_machine.travel(timezone.now() + timedelta(days=2)):
            enrolment.enroll_student(course=self.course, student=self.bob)
            assert selectors.unread_total(self.bob) == 0
            self.say(self.erin, "Welcome back, Bob")
            assert selectors.unread_total(self.bob) == 1

    def test_the_teacher_and_early_members_still_count_everything(self) -> None:
        assert selectors.unread_in(self.channel, self.alice) == 26
        assert selectors.unread_in(self.channel, self.frank) == 26

    def test_the_badge_and_the_inbox_stay_at_constant_queries(self) -> None:
        now = timezone.now()

        def join_courses(n: int) -> None:
            for _ in range(n):
                course = type(self.course).objects.create(
                    teacher=self.alice, title="More", slug=f"more-{Conversation.objects.count()}"
                )
                channel = Conversation.objects.create(kind="channel", course=course)
                Message.objects.create(
                    conversation=channel,
                    author=self.alice,
                    body="old",
                    body_html="<p>old</p>",
                    created_at=now - timedelta(days=1),
                )
                EnrollmentFactory.create(course=course, student=self.dave)

        client = self.new_client(self.dave)
        assert_constant_queries(client, self.url("inbox"), join_courses, counts=(5, 60))
        assert selectors.unread_total(self.dave) == 0
        student = StudentFactory.create()
        EnrollmentFactory.create(course=self.course, student=student)
        assert selectors.unread_total(student) == 0
