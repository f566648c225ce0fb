"""Staff see LiveKit's webhook log and can process an event again."""

from django.urls import reverse

from courses.models import Delivery
from courses.tests.factories import CourseItemFactory
from live import services
from live.models import LiveKitEvent, ParticipantInterval
from live.tests.kit import event, livekit_on, post_event
from tests.base import LecternTestCase


@livekit_on
class EventLogTests(LecternTestCase):
    def test_staff_replay_a_failed_event(self) -> None:
        item = CourseItemFactory.create(session=True, delivery=Delivery.LIVE)
        room = services.ensure_room(item=item)
        joined = event(
            "participant_joined",
            "EV_1",
            room=room.name,
            at=1_796_000_000,
            identity=services.identity_for(self.bob),
            sid="PA_1",
        )
        post_event(self.client, joined)  # stored; its processing never ran
        LiveKitEvent.objects.update(status=LiveKitEvent.Status.FAILED, last_error="boom")
        self.login(self.staff)
        changelist = reverse("admin:live_livekitevent_changelist")
        self.assertContains(self.client.get(changelist, {"status__exact": "failed"}), "EV_1")

        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                changelist,
                {"action": "replay", "_selected_action": [LiveKitEvent.objects.get().pk]},
            )

        assert response.status_code == 302
        row = LiveKitEvent.objects.get()
        assert (row.status, row.last_error) == ("done", "")
        assert ParticipantInterval.objects.get().user == self.bob

    def test_events_and_recordings_cannot_be_added_by_hand(self) -> None:
        self.login(self.staff)
        assert self.client.get(reverse("admin:live_livekitevent_add")).status_code == 403
        assert self.client.get(reverse("admin:live_recording_add")).status_code == 403
        assert self.client.get(reverse("admin:live_recording_changelist")).status_code == 200
        assert self.client.get(reverse("admin:live_participation_changelist")).status_code == 200
