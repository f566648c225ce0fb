import json

from django.test import override_settings

from courses.tests.factories import CourseItemFactory
from live import services
from live.models import LiveKitEvent, ParticipantInterval
from live.tests.kit import event, livekit_on, post_event, sign
from tests.base import LecternTestCase

AT = 1_796_000_000


@livekit_on
class WebhookTestCase(LecternTestCase):
    def setUp(self) -> None:
        self.room = services.ensure_room(item=CourseItemFactory.create(session=True))
        self.identity = services.identity_for(self.bob)
        self.joined = event(
            "participant_joined",
            "EV_join",
            room=self.room.name,
            at=AT,
            identity=self.identity,
            sid="PA_1",
        )

    def test_it_stores_an_event_once_and_processes_it(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            first = post_event(self.client, self.joined)
        with self.captureOnCommitCallbacks(execute=True):
            second = post_event(self.client, self.joined)

        assert first.status_code == 200
        assert first.json() == {"received": True}
        assert second.status_code == 200
        assert second.json()["duplicate"] is True
        stored = LiveKitEvent.objects.get()
        assert (stored.event_id, stored.type, stored.room_name) == (
            "EV_join",
            "participant_joined",
            self.room.name,
        )
        assert stored.identity == self.identity
        assert stored.participant_sid == "PA_1"
        assert stored.created_at.timestamp() == AT
        assert stored.status == LiveKitEvent.Status.DONE
        assert stored.attempts == 1
        assert stored.payload == self.joined
        interval = ParticipantInterval.objects.get()
        assert interval.user == self.bob
        assert interval.left_at is None

    def test_it_refuses_a_wrong_secret(self) -> None:
        body = json.dumps(self.joined)
        wrong = sign(body, secret="another-secret-of-well-over-32-bytes!!")

        response = post_event(self.client, self.joined, authorization=wrong)

        assert response.status_code == 401
        assert not LiveKitEvent.objects.exists()

    def test_it_refuses_a_wrong_key(self) -> None:
        wrong = sign(json.dumps(self.joined), key="APIsomeoneelse")

        assert post_event(self.client, self.joined, authorization=wrong).status_code == 401
        assert not LiveKitEvent.objects.exists()

    def test_it_refuses_a_tampered_body(self) -> None:
        header = sign(json.dumps(self.joined))
        tampered = {**self.joined, "id": "EV_forged"}

        assert post_event(self.client, tampered, authorization=header).status_code == 401
        assert not LiveKitEvent.objects.exists()

    def test_it_refuses_a_missing_or_garbled_header(self) -> None:
        assert post_event(self.client, self.joined, authorization="").status_code == 401
        assert post_event(self.client, self.joined, authorization="Bearer x.y.z").status_code == 401
        assert not LiveKitEvent.objects.exists()

    def test_it_refuses_a_body_that_is_not_json(self) -> None:
        body = b"\xff\xfe not json"
        response = self.client.post(
            "/live/webhooks/livekit/",
            data=body,
            content_type="application/webhook+json",
            headers={"Authorization": sign("not json")},
        )

        assert response.status_code == 401
        assert not LiveKitEvent.objects.exists()

    def test_it_refuses_a_signed_event_without_an_id_or_time(self) -> None:
        no_id = {**self.joined, "id": ""}
        no_time = {**self.joined, "createdAt": "0"}
        far_future = {**self.joined, "createdAt": str(2**62)}

        assert post_event(self.client, no_id).status_code == 400
        assert post_event(self.client, no_time).status_code == 400
        assert post_event(self.client, far_future).status_code == 400
        assert not LiveKitEvent.objects.exists()

    def test_it_stores_events_of_rooms_it_does_not_know_and_changes_nothing(self) -> None:
        stranger = {**self.joined, "room": {"name": "not-ours"}}

        with self.captureOnCommitCallbacks(execute=True):
            assert post_event(self.client, stranger).status_code == 200

        assert LiveKitEvent.objects.get().status == LiveKitEvent.Status.DONE
        assert not ParticipantInterval.objects.exists()

    @override_settings(LIVEKIT_API_SECRET="")
    def test_it_refuses_everything_while_live_classes_are_off(self) -> None:
        assert post_event(self.client, self.joined).status_code == 401
        assert not LiveKitEvent.objects.exists()
