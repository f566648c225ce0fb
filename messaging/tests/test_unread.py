"""Unread counts: per conversation and in the navigation, exact under many posters."""

import random

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from core import cache as shared_cache
from core.testing import requires_redis
from courses.services import enrolment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging import badge, live, selectors, services
from messaging.models import Message, Participant
from messaging.tests.kit import MessagingTestCase
from tests.base import StudentFactory, count_queries


class UnreadTests(MessagingTestCase):
    def test_it_counts_others_messages_after_the_last_read_one(self) -> None:
        self.say(self.alice, "one")
        self.say(self.alice, "two")
        assert selectors.unread_in(self.channel, self.bob) == 2
        assert selectors.unread_total(self.bob) == 2
        self.page(self.bob)
        assert selectors.unread_total(self.bob) == 0
        self.say(self.erin, "three")
        assert selectors.unread_total(self.bob) == 1
        assert selectors.unread_total(self.erin) == 0

    def test_deleted_messages_are_not_unread(self) -> None:
        message = self.say(self.alice, "oops")
        services.delete_message(message=message, by=self.alice)
        assert selectors.unread_total(self.bob) == 0

    def test_it_adds_up_every_conversation(self) -> None:
        self.say(self.alice, "channel")
        conversation = self.direct(self.alice, self.bob)
        self.say(self.alice, "direct", conversation)
        self.say(self.alice, "direct again", conversation)
        assert selectors.unread_total(self.bob) == 3
        assert selectors.unread_total(self.dave) == 0

    def test_the_header_shows_the_total_from_the_cache_or_one_query(self) -> None:
        self.say(self.alice, "a")
        self.say(self.alice, "b")
        client = self.new_client(self.bob)
        response = client.get(reverse("dashboard"))
        self.assertContains(response, '<span class="visually-hidden">, 2 unread</span>', html=True)
        _, sql, _ = count_queries(lambda: client.get(reverse("dashboard")))
        assert sum("messaging_message" in q for q in sql) == (0 if shared_cache.is_shared() else 1)

    def test_a_page_without_the_header_asks_nothing(self) -> None:
        _, sql, _ = count_queries(lambda: self.new_client(self.bob).get(reverse("healthz")))
        assert not any("messaging_" in q for q in sql)

    def test_the_badge_answers_304_while_the_count_is_the_same(self) -> None:
        self.say(self.alice, "a")
        client = self.htmx(self.bob)
        first = client.get(self.url("unread"))
        assert first.status_code == 200
        self.assertContains(first, ", 1 unread")
        again = client.get(self.url("unread"), headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304
        self.say(self.alice, "b")
        changed = client.get(self.url("unread"), headers={"If-None-Match": first["ETag"]})
        self.assertContains(changed, ", 2 unread")

    def test_1000_messages_from_20_people_leave_every_count_exact(self) -> None:
        people = [self.alice, self.bob, self.erin]
        for _ in range(17):
            student = StudentFactory.create()
            EnrollmentFactory.create(course=self.course, student=student)
            people.append(student)
        rng = random.Random(20)
        readers: dict[int, int] = {}
        for n in range(1000):
            author = rng.choice(people)
            message = self.say(author, f"message {n}")
            if n % 97 == 0:  # someone opens the channel now and then
                reader = rng.choice(people)
                services.mark_read(conversation=self.channel, user=reader, up_to=message.pk)
                readers[reader.pk] = message.pk
        ordered = list(Message.objects.filter(conversation=self.channel).order_by("pk"))
        assert len(ordered) == 1000
        pointers = dict(
            Participant.objects.filter(conversation=self.channel).values_list(
                "user_id", "last_read_message_id"
            )
        )
        for person in people:
            pointer = pointers.get(person.pk, 0)
            expected = sum(1 for m in ordered if m.pk > pointer and m.author_id != person.pk)
            assert selectors.unread_in(self.channel, person) == expected, person
            assert selectors.unread_total(person) == expected, person
        inbox = self.new_client(people[5]).get(self.url("inbox"))
        expected = sum(
            1
            for m in ordered
            if m.pk > pointers.get(people[5].pk, 0) and m.author_id != people[5].pk
        )
        self.assertContains(inbox, f'{expected}<span class="visually-hidden"> unread</span>')


@requires_redis
class KeptBadgeTests(MessagingTestCase):
    """With Redis the badge is counted again only when something it was counted from changed."""

    def badge(self, user: User) -> tuple[int, int]:
        """Return the badge's count and how many queries answering it took."""
        queries, _, count = count_queries(lambda: badge.unread_total(user))
        return count, queries

    def test_an_unchanged_badge_costs_no_query(self) -> None:
        self.say(self.alice, "a")
        assert self.badge(self.bob) == (1, 1)
        assert self.badge(self.bob) == (1, 0)

    def test_a_post_anywhere_the_person_belongs_counts_again(self) -> None:
        self.badge(self.bob)
        direct = self.direct(self.alice, self.bob)
        self.say(self.alice, "psst", direct)
        self.say(self.erin, "hello all")
        assert self.badge(self.bob) == (2, 1)

    def test_reading_part_of_a_conversation_counts_again(self) -> None:
        first = self.say(self.alice, "a")
        self.say(self.alice, "b")
        assert self.badge(self.bob)[0] == 2
        self.channel.refresh_from_db()
        with self.captureOnCommitCallbacks(execute=True):
            services.mark_read(conversation=self.channel, user=self.bob, up_to=first.pk)
        assert self.badge(self.bob) == (1, 1)

    def test_reading_to_the_end_keeps_the_count_right_without_a_query(self) -> None:
        self.say(self.alice, "a")
        direct = self.direct(self.alice, self.bob)
        self.say(self.alice, "psst", direct)
        last = self.say(self.erin, "b")
        assert self.badge(self.bob)[0] == 3
        self.channel.refresh_from_db()
        with self.captureOnCommitCallbacks(execute=True):
            services.mark_read(conversation=self.channel, user=self.bob, up_to=last.pk)
        assert self.badge(self.bob) == (1, 0)  # the direct message is still unread

    def test_a_count_made_before_reading_is_not_kept_after_it(self) -> None:
        last = self.say(self.alice, "a")
        self.badge(self.bob)
        self.channel.refresh_from_db()
        stale = cache.get(live.badge_key(self.bob.pk))  # counted before the reading below
        with self.captureOnCommitCallbacks(execute=True):
            services.mark_read(conversation=self.channel, user=self.bob, up_to=last.pk)
        cache.set(live.badge_key(self.bob.pk), stale)  # a slower request stores it late
        assert self.badge(self.bob) == (0, 1)

    def test_a_new_course_counts_again(self) -> None:
        other = CourseFactory.create(teacher=self.alice, slug="other")
        channel = services.get_or_create_channel(course=other)
        assert self.badge(self.bob)[0] == 0
        with self.captureOnCommitCallbacks(execute=True):
            enrolment.enroll_student(course=other, student=self.bob)
        self.say(self.alice, "welcome", channel)
        assert self.badge(self.bob) == (1, 1)

    def test_a_new_channel_counts_again_for_everyone_in_the_course(self) -> None:
        other = CourseFactory.create(teacher=self.alice, slug="other")
        EnrollmentFactory.create(course=other, student=self.bob)
        assert self.badge(self.bob)[0] == 0
        with self.captureOnCommitCallbacks(execute=True):
            channel = services.get_or_create_channel(course=other)
        self.say(self.alice, "first words", channel)
        assert self.badge(self.bob)[0] == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's setting"
)
def test_a_read_pointer_moved_on_its_own_does_not_wait_for_the_disk() -> None:
    course = CourseFactory.create()
    student = StudentFactory.create()
    EnrollmentFactory.create(course=course, student=student)
    channel = services.get_or_create_channel(course=course)
    first, second = (
        services.post_message(conversation=channel, author=course.teacher, body=body, notify=False)
        for body in ("One", "Two")
    )
    with CaptureQueriesContext(connection) as alone:
        assert services.mark_read(conversation=channel, user=student, up_to=first.pk)
    assert any("synchronous_commit TO OFF" in q["sql"] for q in alone.captured_queries)
    # Inside a caller's transaction, the caller's commit is left as it is.
    with transaction.atomic(), CaptureQueriesContext(connection) as inside:
        assert services.mark_read(conversation=channel, user=student, up_to=second.pk)
    assert not any("synchronous_commit" in q["sql"] for q in inside.captured_queries)
    pointer = Participant.objects.get(conversation=channel, user=student)
    assert pointer.last_read_message_id == second.pk
