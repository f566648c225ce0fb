"""Intervals come from LiveKit's own timestamps, whatever order and however often events arrive."""

import random
from datetime import UTC, datetime
from typing import Any

from courses.tests.factories import CourseItemFactory
from live import services, webhooks
from live.models import LiveRoom, ParticipantInterval
from live.tests.kit import event, livekit_on, post_event
from tests.base import LecternTestCase

T0 = 1_796_000_000
ClosedBy = ParticipantInterval.ClosedBy


def _at(offset: int) -> datetime:
    return datetime.fromtimestamp(T0 + offset, tz=UTC)


@livekit_on
class IntervalsTestCase(LecternTestCase):
    def setUp(self) -> None:
        self.room = services.ensure_room(item=CourseItemFactory.create(session=True))
        self.bob_id = services.identity_for(self.bob)
        self.dave_id = services.identity_for(self.dave)
        self.serial = 0

    def _event(self, kind: str, at: int, identity: str = "", sid: str = "") -> dict[str, Any]:
        self.serial += 1
        return event(
            kind, f"EV_{self.serial}", room=self.room.name, at=T0 + at, identity=identity, sid=sid
        )

    def _deliver(self, events: list[dict[str, Any]]) -> None:
        for payload in events:
            with self.captureOnCommitCallbacks(execute=True):
                assert post_event(self.client, payload).status_code == 200

    def _intervals(self) -> list[tuple[Any, ...]]:
        return sorted(
            ParticipantInterval.objects.values_list(
                "identity", "user_id", "participant_sid", "joined_at", "left_at", "closed_by"
            )
        )

    def _class_stream(self) -> list[dict[str, Any]]:
        """A 90-minute class: bob drops out and reconnects, dave's leaving is never reported."""
        return [
            self._event("room_started", 0),
            self._event("participant_joined", 60, self.bob_id, "PA_b1"),
            self._event("participant_joined", 120, self.dave_id, "PA_d1"),
            self._event("participant_left", 1800, self.bob_id, "PA_b1"),
            self._event("participant_joined", 1830, self.bob_id, "PA_b2"),
            self._event("participant_left", 5400, self.bob_id, "PA_b2"),
            self._event("room_finished", 5460),
        ]

    def _expected(self) -> list[tuple[Any, ...]]:
        return sorted(
            [
                (self.bob_id, self.bob.pk, "PA_b1", _at(60), _at(1800), ClosedBy.EVENT),
                (self.bob_id, self.bob.pk, "PA_b2", _at(1830), _at(5400), ClosedBy.EVENT),
                (self.dave_id, self.dave.pk, "PA_d1", _at(120), _at(5460), ClosedBy.ROOM_FINISHED),
            ]
        )

    def test_it_builds_intervals_from_an_ordered_stream(self) -> None:
        self._deliver(self._class_stream())

        assert self._intervals() == self._expected()
        room = LiveRoom.objects.get()
        assert (room.started_at, room.finished_at) == (_at(0), _at(5460))

    def test_it_builds_the_same_intervals_from_shuffled_duplicated_streams(self) -> None:
        stream = self._class_stream()
        for seed in range(5):
            ParticipantInterval.objects.all().delete()
            webhooks.LiveKitEvent.objects.all().delete()
            deliveries = stream * 2
            random.Random(seed).shuffle(deliveries)

            self._deliver(deliveries)

            assert self._intervals() == self._expected(), f"seed {seed}"
            assert webhooks.LiveKitEvent.objects.count() == len(stream)

    def test_it_closes_open_intervals_when_the_room_finishes(self) -> None:
        self._deliver(
            [
                self._event("participant_joined", 10, self.bob_id, "PA_b1"),
                self._event("participant_joined", 20, self.dave_id, "PA_d1"),
            ]
        )
        assert [row[4] for row in self._intervals()] == [None, None]

        self._deliver([self._event("room_finished", 3000)])

        assert [(row[4], row[5]) for row in self._intervals()] == [
            (_at(3000), ClosedBy.ROOM_FINISHED),
            (_at(3000), ClosedBy.ROOM_FINISHED),
        ]

    def test_it_closes_a_connection_whose_leaving_was_lost_when_the_person_rejoins(self) -> None:
        self._deliver(
            [
                self._event("participant_joined", 10, self.bob_id, "PA_b1"),
                self._event("participant_joined", 700, self.bob_id, "PA_b2"),
            ]
        )

        assert [(row[2], row[4], row[5]) for row in self._intervals()] == [
            ("PA_b1", _at(700), ClosedBy.EVENT),
            ("PA_b2", None, ""),
        ]

    def test_it_keeps_a_leave_that_arrives_before_its_join(self) -> None:
        self._deliver(
            [
                self._event("participant_left", 900, self.bob_id, "PA_b1"),
                self._event("participant_joined", 30, self.bob_id, "PA_b1"),
            ]
        )

        assert self._intervals() == [
            (self.bob_id, self.bob.pk, "PA_b1", _at(30), _at(900), ClosedBy.EVENT)
        ]

    def test_it_leaves_an_identity_it_did_not_issue_without_an_account(self) -> None:
        self._deliver([self._event("participant_joined", 10, "u1-forged0000", "PA_x")])

        assert ParticipantInterval.objects.get().user_id is None

    def test_it_does_not_process_an_event_twice(self) -> None:
        self._deliver([self._event("participant_joined", 10, self.bob_id, "PA_b1")])
        stored = webhooks.LiveKitEvent.objects.get()

        assert webhooks.process(stored.event_id).status == "skipped"
        stored.refresh_from_db()
        assert stored.attempts == 1
