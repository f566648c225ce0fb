"""Participant-minutes and the attendance they fill, whatever the order and number of deliveries."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from courses.models import Attendance, AttendanceSource, Delivery, Enrollment
from courses.services import attendance as course_attendance
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import attendance, services, webhooks
from live.models import LiveKitEvent, LiveRoom, ParticipantInterval, Participation
from live.tests.kit import event, livekit_on, post_event
from tests.base import LecternTestCase, StudentFactory, count_queries

T0 = 1_796_000_000  # the session's start
MINUTE = 60


def at(offset: int) -> datetime:
    return datetime.fromtimestamp(T0 + offset, tz=UTC)


class LiveClassTestCase(LecternTestCase):
    """A 90-minute live session of alice's course, its room, and a way to send LiveKit's events."""

    students = 2

    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice)
        self.item = CourseItemFactory.create(
            course=self.course,
            session=True,
            starts_at=at(0),
            duration_minutes=90,
            delivery=Delivery.LIVE,
        )
        self.room = services.ensure_room(item=self.item)
        self.people = StudentFactory.create_batch(self.students)
        Enrollment.objects.bulk_create(
            [Enrollment(course=self.course, student=student) for student in self.people]
        )
        self.serial = 0

    def identity(self, person: Any) -> str:
        return services.identity_for(person)

    def ev(self, kind: str, offset: int, person: Any = None, sid: str = "") -> dict[str, Any]:
        self.serial += 1
        return event(
            kind,
            f"EV_{self.serial}",
            room=self.room.name,
            at=T0 + offset,
            identity=self.identity(person) if person is not None else "",
            sid=sid,
        )

    def deliver(self, events: list[dict[str, Any]]) -> None:
        for payload in events:
            with self.captureOnCommitCallbacks(execute=True):
                assert post_event(self.client, payload).status_code == 200

    def attendance(self) -> dict[int, tuple[str, str, int | None]]:
        return {
            student_id: (status, source, minutes)
            for student_id, status, source, minutes in Attendance.objects.filter(
                item=self.item
            ).values_list("student_id", "status", "source", "live_minutes")
        }


@livekit_on
class ParticipationTests(LiveClassTestCase):
    def test_it_counts_overlapping_connections_once(self) -> None:
        bob = self.people[0]
        self.deliver(
            [
                self.ev("participant_joined", 0, bob, "PA_1"),
                # A second tab while the first is still open, then a reconnect after a gap.
                self.ev("participant_joined", 10 * MINUTE, bob, "PA_2"),
                self.ev("participant_left", 20 * MINUTE, bob, "PA_1"),
                self.ev("participant_left", 30 * MINUTE, bob, "PA_2"),
                self.ev("participant_joined", 40 * MINUTE, bob, "PA_3"),
                self.ev("participant_left", 50 * MINUTE, bob, "PA_3"),
            ]
        )

        participation = Participation.objects.get()
        assert participation.user_id == bob.pk
        assert participation.seconds == 40 * MINUTE
        assert (participation.first_joined_at, participation.last_left_at) == (
            at(0),
            at(50 * MINUTE),
        )

    def test_it_does_not_count_a_connection_still_open(self) -> None:
        bob = self.people[0]
        self.deliver(
            [
                self.ev("participant_joined", 0, bob, "PA_1"),
                self.ev("participant_left", 5 * MINUTE, bob, "PA_1"),
                self.ev("participant_joined", 6 * MINUTE, bob, "PA_2"),
            ]
        )

        participation = Participation.objects.get()
        assert participation.seconds == 5 * MINUTE
        assert participation.last_left_at is None

    def test_union_seconds_merges_touching_and_nested_spans(self) -> None:
        spans = [(at(0), at(60)), (at(60), at(120)), (at(10), at(20)), (at(200), at(230))]
        assert attendance.union_seconds(spans) == 150
        assert attendance.union_seconds([]) == 0


def class_stream(case: LiveClassTestCase) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """A 90-minute class with 30 students, and the status each of them should end with.

    The teacher is there throughout. Students come on time, reconnect (a
    dropped connection, a second tab), come late, leave early, lose a
    `participant_left` (closed when the room finishes) or never come.
    """
    ev, people = case.ev, case.people
    end = 90 * MINUTE
    stream = [
        ev("room_started", -5 * MINUTE),
        ev("participant_joined", -5 * MINUTE, case.alice, "PA_t"),
        ev("participant_left", end + MINUTE, case.alice, "PA_t"),
    ]
    expected: dict[int, str] = {}
    for n, person in enumerate(people):
        sid = f"PA_{n}"
        kind = n % 6
        if kind == 0:  # on time, the whole class
            stream += [
                ev("participant_joined", n, person, sid),
                ev("participant_left", end, person, sid),
            ]
            expected[person.pk] = "present"
        elif kind == 1:  # drops out for a minute and reconnects
            stream += [
                ev("participant_joined", 2 * MINUTE, person, sid),
                ev("participant_left", 30 * MINUTE, person, sid),
                ev("participant_joined", 31 * MINUTE, person, sid + "b"),
                ev("participant_left", end, person, sid + "b"),
            ]
            expected[person.pk] = "present"
        elif kind == 2:  # a second tab, overlapping the first
            stream += [
                ev("participant_joined", MINUTE, person, sid),
                ev("participant_joined", 20 * MINUTE, person, sid + "b"),
                ev("participant_left", 25 * MINUTE, person, sid),
                ev("participant_left", 70 * MINUTE, person, sid + "b"),
            ]
            expected[person.pk] = "present"
        elif kind == 3:  # comes 20 minutes late
            stream += [
                ev("participant_joined", 20 * MINUTE, person, sid),
                ev("participant_left", end, person, sid),
            ]
            expected[person.pk] = "late"
        elif kind == 4:  # their leaving is never reported: the room's finish closes it
            stream += [ev("participant_joined", 3 * MINUTE, person, sid)]
            expected[person.pk] = "present"
        elif n % 12 == 5:  # leaves after 30 minutes: under half the session
            stream += [
                ev("participant_joined", 0, person, sid),
                ev("participant_left", 30 * MINUTE, person, sid),
            ]
            expected[person.pk] = "absent"
        else:  # never comes
            expected[person.pk] = "absent"
    stream.append(ev("room_finished", end + 2 * MINUTE))
    return stream, expected


@livekit_on
class ShuffledClassTests(LiveClassTestCase):
    students = 30

    def snapshot(self) -> tuple[Any, ...]:
        intervals = sorted(
            ParticipantInterval.objects.values_list(
                "identity", "user_id", "participant_sid", "joined_at", "left_at", "closed_by"
            )
        )
        participations = sorted(
            Participation.objects.values_list(
                "identity", "user_id", "first_joined_at", "last_left_at", "seconds"
            )
        )
        return intervals, participations, sorted(self.attendance().items())

    def reset(self) -> None:
        ParticipantInterval.objects.all().delete()
        Participation.objects.all().delete()
        Attendance.objects.all().delete()
        LiveKitEvent.objects.all().delete()
        LiveRoom.objects.filter(pk=self.room.pk).update(
            started_at=None, finished_at=None, reconciled_at=None
        )

    def test_it_ends_the_same_however_the_class_is_delivered(self) -> None:
        stream, expected = class_stream(self)
        self.deliver(stream)
        ordered = self.snapshot()

        assert {pk: status for pk, (status, _, _) in self.attendance().items()} == expected
        assert {source for _, source, _ in self.attendance().values()} == {AttendanceSource.LIVE}
        assert self.alice.pk not in self.attendance()  # the teacher's time isn't attendance
        assert Participation.objects.get(user=self.alice).seconds == 96 * MINUTE
        open_ended = self.people[4]
        assert ParticipantInterval.objects.get(user=open_ended).closed_by == "room_finished"
        assert self.attendance()[open_ended.pk][2] == 89  # minutes, until the room finished
        for seed in range(4):
            self.reset()
            deliveries = stream + random.Random(seed).sample(stream, len(stream) // 2)
            random.Random(seed).shuffle(deliveries)

            self.deliver(deliveries)

            assert self.snapshot() == ordered, f"seed {seed}"
            assert LiveKitEvent.objects.count() == len(stream)

    def test_a_teachers_override_survives_recomputation(self) -> None:
        stream, expected = class_stream(self)
        self.deliver(stream)
        latecomer, absentee = self.people[3], self.people[5]
        assert (expected[latecomer.pk], expected[absentee.pk]) == ("late", "absent")

        self.login(self.alice)
        self.client.post(
            f"/teach/courses/{self.course.slug}/sessions/{self.item.pk}/attendance/",
            {f"s{latecomer.pk}": "present", f"s{absentee.pk}": "present"},
        )
        # A straggler arrives for the absentee and everything is recomputed, twice.
        self.deliver([self.ev("participant_joined", 40 * MINUTE, absentee, "PA_late")])
        self.room.refresh_from_db()
        attendance.fill_attendance(self.room)

        marks = self.attendance()
        assert marks[latecomer.pk] == ("present", AttendanceSource.TEACHER, 70)
        # The override keeps its status; the minutes it shows are the room's latest.
        assert marks[absentee.pk] == ("present", AttendanceSource.TEACHER, 30 + 52)
        assert marks[self.people[0].pk] == ("present", AttendanceSource.LIVE, 90)


@livekit_on
class ThresholdTests(LiveClassTestCase):
    students = 3

    def fill(self, **course: int) -> dict[int, str]:
        for name, value in course.items():
            setattr(self.course, name, value)
        self.course.save()
        self.item.refresh_from_db()
        early, late, short = self.people
        course_attendance.fill_from_live(
            self.item,
            {
                early.pk: (at(-MINUTE), 90 * MINUTE),
                late.pk: (at(12 * MINUTE), 78 * MINUTE),
                short.pk: (at(0), 40 * MINUTE),
            },
        )
        return {pk: status for pk, (status, _, _) in self.attendance().items()}

    def test_it_uses_the_defaults_ten_minutes_and_half_the_session(self) -> None:
        early, late, short = self.people
        assert self.fill() == {early.pk: "present", late.pk: "late", short.pk: "absent"}

    def test_it_follows_each_courses_own_thresholds(self) -> None:
        early, late, short = self.people
        assert self.fill(late_after_minutes=15, present_min_percent=40) == {
            early.pk: "present",
            late.pk: "present",
            short.pk: "present",
        }
        assert self.fill(late_after_minutes=0, present_min_percent=95) == {
            early.pk: "present",
            late.pk: "absent",
            short.pk: "absent",
        }

    def test_it_uses_how_long_the_room_ran_for_a_session_without_a_duration(self) -> None:
        self.item.duration_minutes = None
        self.item.save()
        early, _, short = self.people
        course_attendance.fill_from_live(
            self.item, {short.pk: (at(0), 40 * MINUTE)}, held_seconds=60 * MINUTE
        )
        assert self.attendance()[short.pk][0] == "present"
        assert self.attendance()[early.pk][0] == "absent"

    def test_it_marks_only_actively_enrolled_students(self) -> None:
        Enrollment.objects.filter(student=self.people[2]).update(status=Enrollment.Status.LEFT)
        course_attendance.fill_from_live(self.item, {self.dave.pk: (at(0), 90 * MINUTE)})
        assert set(self.attendance()) == {self.people[0].pk, self.people[1].pk}

    def test_it_fills_in_two_statements(self) -> None:
        times = {person.pk: (at(0), 90 * MINUTE) for person in self.people}
        queries, _, written = count_queries(
            lambda: course_attendance.fill_from_live(self.item, times)
        )
        assert written == 3
        assert queries <= 4  # the two statements, inside their savepoint
        queries, _, written = count_queries(
            lambda: course_attendance.fill_from_live(self.item, times)
        )
        assert written == 0  # nothing changed: nothing rewritten


@livekit_on
class RoomFinishedQueryTests(LiveClassTestCase):
    students = 0

    def add_people(self, count: int, start: int) -> None:
        people = StudentFactory.create_batch(count)
        Enrollment.objects.bulk_create(
            [Enrollment(course=self.course, student=student) for student in people]
        )
        self.people += people
        rows = []
        for n, person in enumerate(people, start=start):
            for k in range(3):
                sid = f"PA_{n}_{k}"
                rows += [
                    self.ev("participant_joined", k * 20 * MINUTE, person, sid),
                    self.ev("participant_left", k * 20 * MINUTE + 15 * MINUTE, person, sid),
                ]
        for payload in rows:
            webhooks.receive(event=payload, body="{}")

    def finish(self) -> int:
        finished = self.ev("room_finished", 100 * MINUTE + self.serial)
        webhooks.receive(event=finished, body="{}")
        stored = LiveKitEvent.objects.get(event_id=finished["id"])
        queries, _, _ = count_queries(lambda: webhooks.apply(stored))
        return queries

    def test_a_room_finishing_costs_the_same_queries_for_5_or_40_people(self) -> None:
        self.add_people(5, 0)
        few = self.finish()
        self.add_people(35, 5)
        many = self.finish()

        assert few == many, (few, many)
        assert many <= 16
        assert Participation.objects.count() == 40
        assert Attendance.objects.filter(item=self.item).count() == 40
        assert set(Participation.objects.values_list("seconds", flat=True)) == {45 * MINUTE}


@livekit_on
class MinutesTests(LiveClassTestCase):
    def test_it_sums_everyones_minutes_in_the_teachers_rooms_since_a_date(self) -> None:
        bob = self.people[0]
        self.deliver(
            [
                self.ev("participant_joined", 0, self.alice, "PA_t"),
                self.ev("participant_joined", 0, bob, "PA_b"),
                self.ev("participant_left", 30 * MINUTE + 20, bob, "PA_b"),
                self.ev("room_finished", 60 * MINUTE),
            ]
        )
        other = CourseItemFactory.create(session=True)  # carol's course, not alice's
        Participation.objects.create(
            room=services.ensure_room(item=other),
            identity="x",
            first_joined_at=at(0),
            seconds=600,
        )

        queries, _, minutes = count_queries(lambda: attendance.minutes_since(self.alice, at(-1)))
        assert (queries, minutes) == (1, 90)
        assert attendance.minutes_since(self.alice, at(1)) == 0
        assert attendance.minutes_since(self.carol, at(-1)) == 0

    def test_it_is_the_plan_pages_live_meter(self) -> None:
        from billing import metering

        assert metering.is_metered("live")
        assert metering.used("live", self.alice, at(-int(timedelta(days=1).total_seconds()))) == 0
