from datetime import timedelta

from django.utils import timezone

from courses.tests.factories import CourseItemFactory
from live import services, tasks, webhooks
from live.models import LiveKitEvent, ParticipantInterval
from live.tests.kit import event, livekit_on, post_event
from tests.base import LecternTestCase


@livekit_on
class RequeueTestCase(LecternTestCase):
    def setUp(self) -> None:
        self.room = services.ensure_room(item=CourseItemFactory.create(session=True))
        payload = event(
            "participant_joined",
            "EV_1",
            room=self.room.name,
            at=1_796_000_000,
            identity=services.identity_for(self.bob),
            sid="PA_1",
        )
        # Stored, but its task never ran (no on-commit callbacks executed).
        assert post_event(self.client, payload).status_code == 200

    def test_it_processes_an_event_whose_wake_up_was_lost(self) -> None:
        assert webhooks.due_event_ids() == ["EV_1"]

        assert tasks.requeue_livekit_events_task() == 1

        assert LiveKitEvent.objects.get().status == LiveKitEvent.Status.DONE
        assert ParticipantInterval.objects.get().user == self.bob
        assert webhooks.due_event_ids() == []

    def test_a_failed_event_waits_for_its_next_attempt(self) -> None:
        LiveKitEvent.objects.update(
            status=LiveKitEvent.Status.PENDING,
            attempts=1,
            next_attempt_at=timezone.now() + timedelta(minutes=1),
        )

        assert webhooks.due_event_ids() == []
        assert webhooks.process("EV_1").status == "skipped"

    def test_it_takes_over_from_a_worker_that_vanished(self) -> None:
        LiveKitEvent.objects.update(
            status=LiveKitEvent.Status.PROCESSING,
            attempts=1,
            lease_until=timezone.now() - timedelta(seconds=1),
        )

        assert webhooks.process("EV_1").status == LiveKitEvent.Status.DONE

        stored = LiveKitEvent.objects.get()
        assert stored.attempts == 2
        assert stored.lease_until is None
        assert ParticipantInterval.objects.count() == 1

    def test_it_leaves_a_worker_alone_while_its_lease_runs(self) -> None:
        LiveKitEvent.objects.update(
            status=LiveKitEvent.Status.PROCESSING,
            lease_until=timezone.now() + timedelta(minutes=1),
        )

        assert webhooks.process("EV_1").status == "skipped"
        assert webhooks.due_event_ids() == []
        assert not ParticipantInterval.objects.exists()
