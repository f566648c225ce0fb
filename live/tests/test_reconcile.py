"""Reconciliation: LiveKit's participant list closes what lost webhooks left open."""

import random
from datetime import timedelta

from django.test import override_settings

from config.celery import app
from courses.models import Attendance, AttendanceSource
from live import reconcile, tasks
from live.models import LiveKitEvent, LiveRoom, ParticipantInterval, Participation
from live.tests import fake_livekit
from live.tests.test_attendance import MINUTE, T0, LiveClassTestCase, at

ClosedBy = ParticipantInterval.ClosedBy
# The session runs 90 minutes and the room stays open for joining 30 more.
CUTOFF = at(120 * MINUTE)
LATER = at(4 * 60 * MINUTE)


@override_settings(LIVE_JOIN_GRACE_MINUTES=30)
class ReconcileTests(LiveClassTestCase):
    students = 2

    def setUp(self) -> None:
        super().setUp()
        self.livekit = fake_livekit.serve_for(self)
        self.bob, self.erin = self.people

    def in_livekit(self, person, offset: int) -> str:
        """Put `person` in the room at LiveKit; return their connection id."""
        return self.livekit.join(self.room.name, self.identity(person), joined_at=T0 + offset)[
            "sid"
        ]

    def intervals(self) -> dict[str, tuple]:
        return {
            sid: (joined_at, left_at, closed_by)
            for sid, joined_at, left_at, closed_by in ParticipantInterval.objects.values_list(
                "participant_sid", "joined_at", "left_at", "closed_by"
            )
        }

    def test_it_closes_whoever_livekit_no_longer_lists(self) -> None:
        erin_sid = self.in_livekit(self.erin, 0)
        self.deliver(
            [
                self.ev("room_started", -MINUTE),
                self.ev("participant_joined", 0, self.bob, "PA_bob"),  # its leave is lost
                self.ev("participant_joined", 0, self.erin, erin_sid),
            ]
        )

        assert reconcile.reconcile_due(LATER) == 1

        assert self.intervals() == {
            "PA_bob": (at(0), CUTOFF, ClosedBy.RECONCILIATION),
            erin_sid: (at(0), None, ""),
        }
        stored = LiveKitEvent.objects.get(event_id=f"reconcile:{self.room.name}:PA_bob")
        assert (stored.type, stored.status) == ("reconciled_leave", LiveKitEvent.Status.DONE)
        assert Participation.objects.get(user=self.bob).seconds == 120 * MINUTE
        # Erin is still in the room: the sheet waits for her.
        assert not Attendance.objects.exists()
        assert LiveRoom.objects.get().reconciled_at == LATER

    def test_it_closes_everything_and_fills_attendance_once_the_room_is_gone(self) -> None:
        self.deliver(
            [
                self.ev("participant_joined", 0, self.bob, "PA_bob"),
                self.ev("participant_joined", 50 * MINUTE, self.erin, "PA_erin"),
            ]
        )

        result = reconcile.reconcile_room(self.room.pk, now=LATER)

        assert (result.status, result.closed, result.filled) == ("reconciled", 2, 2)
        assert {left_at for _, left_at, _ in self.intervals().values()} == {CUTOFF}
        marks = dict(Attendance.objects.values_list("student_id", "status"))
        assert marks == {self.bob.pk: "present", self.erin.pk: "late"}
        assert set(Attendance.objects.values_list("source", flat=True)) == {AttendanceSource.LIVE}
        # Nothing is left open, so the periodic job leaves the room alone from now on.
        assert reconcile.due_room_ids(LATER + timedelta(hours=1)) == []

    def test_it_closes_at_the_reconciliation_time_before_the_cutoff(self) -> None:
        self.deliver([self.ev("participant_joined", 0, self.bob, "PA_bob")])

        reconcile.reconcile_room(self.room.pk, now=at(100 * MINUTE))

        assert self.intervals()["PA_bob"][1] == at(100 * MINUTE)

    def test_it_opens_an_interval_for_someone_whose_join_was_lost(self) -> None:
        sid = self.in_livekit(self.bob, 5 * MINUTE)

        result = reconcile.reconcile_room(self.room.pk, now=at(60 * MINUTE))

        assert (result.status, result.joined) == ("open", 1)
        assert self.intervals() == {sid: (at(5 * MINUTE), None, "")}
        # When their leave does arrive, it closes the interval as for anyone.
        self.deliver([self.ev("participant_left", 70 * MINUTE, self.bob, sid)])
        assert self.intervals() == {sid: (at(5 * MINUTE), at(70 * MINUTE), ClosedBy.EVENT)}

    def test_a_leave_livekit_reports_late_wins_over_the_estimate(self) -> None:
        joined = self.ev("participant_joined", 0, self.bob, "PA_bob")
        self.deliver([joined])
        reconcile.reconcile_room(self.room.pk, now=LATER)
        assert self.intervals()["PA_bob"][2] == ClosedBy.RECONCILIATION

        left = self.ev("participant_left", 45 * MINUTE, self.bob, "PA_bob")
        self.deliver([left, joined, left])

        assert self.intervals() == {"PA_bob": (at(0), at(45 * MINUTE), ClosedBy.EVENT)}
        assert Participation.objects.get(user=self.bob).seconds == 45 * MINUTE

    def test_redelivered_shuffled_events_keep_what_reconciliation_closed(self) -> None:
        stream = [
            self.ev("participant_joined", 0, self.bob, "PA_bob"),
            self.ev("participant_joined", MINUTE, self.erin, "PA_erin"),
            self.ev("participant_left", 80 * MINUTE, self.erin, "PA_erin"),
        ]
        self.deliver(stream)
        reconcile.reconcile_room(self.room.pk, now=LATER)
        settled = self.intervals()
        marks = sorted(Attendance.objects.values_list("student_id", "status", "live_minutes"))

        for seed in range(3):
            again = stream * 2
            random.Random(seed).shuffle(again)
            LiveKitEvent.objects.filter(type__startswith="participant").update(
                status=LiveKitEvent.Status.PENDING
            )
            self.deliver(again)
            assert self.intervals() == settled, f"seed {seed}"
        assert sorted(Attendance.objects.values_list("student_id", "status", "live_minutes")) == (
            marks
        )

    def test_livekit_unreachable_changes_nothing_and_the_next_run_tries_again(self) -> None:
        self.deliver([self.ev("participant_joined", 0, self.bob, "PA_bob")])
        self.livekit.failing = 503

        assert reconcile.reconcile_room(self.room.pk, now=LATER).status == "unreachable"
        assert self.intervals()["PA_bob"][1] is None
        assert LiveRoom.objects.get().reconciled_at is None
        assert reconcile.due_room_ids(LATER) == [self.room.pk]

        self.livekit.failing = None
        assert reconcile.reconcile_due(LATER) == 1
        assert self.intervals()["PA_bob"][1] == CUTOFF

    def test_a_finished_room_with_nothing_open_needs_no_call(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.deliver(
                [
                    self.ev("participant_joined", 0, self.bob, "PA_bob"),
                    self.ev("room_finished", 90 * MINUTE),
                ]
            )

        assert self.livekit.calls == []
        room = LiveRoom.objects.get()
        assert room.reconciled_at is not None
        assert dict(Attendance.objects.values_list("student_id", "status")) == {
            self.bob.pk: "present",
            self.erin.pk: "absent",
        }
        assert reconcile.due_room_ids(LATER) == []

    def test_a_room_that_finished_with_someone_open_is_reconciled_after_commit(self) -> None:
        self.deliver(
            [
                self.ev("participant_joined", 0, self.bob, "PA_bob"),
                self.ev("room_finished", 30 * MINUTE),
                # The room started again and someone joined after the finish.
                self.ev("participant_joined", 40 * MINUTE, self.erin, "PA_erin"),
            ]
        )
        assert self.intervals()["PA_erin"][1] is None

        self.deliver([self.ev("room_finished", 35 * MINUTE)])  # a second, earlier finish

        assert [call["method"] for call in self.livekit.calls] == ["ListParticipants"]
        assert self.intervals()["PA_erin"][2] == ClosedBy.RECONCILIATION

    def test_it_leaves_rooms_alone_until_the_session_and_its_grace_are_over(self) -> None:
        self.deliver([self.ev("participant_joined", 0, self.bob, "PA_bob")])

        assert reconcile.due_room_ids(at(119 * MINUTE)) == []
        assert reconcile.due_room_ids(at(121 * MINUTE)) == [self.room.pk]

    def test_it_does_nothing_without_a_live_server(self) -> None:
        self.deliver([self.ev("participant_joined", 0, self.bob, "PA_bob")])
        with override_settings(LIVEKIT_URL=""):
            assert reconcile.reconcile_due(LATER) == 0

    def test_the_periodic_job_is_scheduled_and_runs(self) -> None:
        entry = app.conf.beat_schedule["reconcile-live-rooms"]
        assert entry["task"] == "live.tasks.reconcile_live_rooms_task"
        self.deliver([self.ev("participant_joined", 0, self.bob, "PA_bob")])
        LiveRoom.objects.update(reconciled_at=None)

        assert tasks.reconcile_room_task(self.room.pk) in {"open", "reconciled"}
        assert tasks.reconcile_room_task(123456) == "no room"
