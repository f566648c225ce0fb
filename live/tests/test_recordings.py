"""Recordings: started and stopped at LiveKit's stand-in, moved on by webhooks, watched from S3."""

import itertools
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from moto import mock_aws

from accounts.models import User
from courses.models import Delivery, Enrollment
from courses.services import courses as course_services
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import recordings, services
from live.models import LiveKitEvent, LiveRoom, Recording
from live.tests import fake_livekit
from live.tests.kit import post_event
from privacy import deletion
from privacy.models import DeletionRequest
from privacy.registry import registry
from privacy.retention import sweep_rule
from privacy.tasks import sweep_retention_task
from tests.base import LecternTestCase

BUCKET = "lectern-test-recordings"
AT = 1_796_000_000
SECOND = 1_000_000_000
recordings_on = override_settings(
    LIVE_RECORDINGS_BUCKET=BUCKET,
    LIVE_RECORDINGS_ACCESS_KEY="testing",
    LIVE_RECORDINGS_SECRET_KEY="testing",
    LIVE_RECORDINGS_REGION="eu-west-1",
    LIVE_RECORDINGS_ENDPOINT_URL=None,
)


def egress_event(
    kind: str, event_id: str, *, egress_id: str, room: str, status: str, at: int
) -> dict[str, Any]:
    """Return an egress webhook as LiveKit writes it: int64 as strings, times in nanoseconds."""
    info: dict[str, Any] = {
        "egressId": egress_id,
        "roomId": "RM_test",
        "roomName": room,
        "status": status,
        "startedAt": str(AT * SECOND),
        "updatedAt": str(at * SECOND),
        "fileResults": [{"filename": f"recordings/{room}/x.mp4"}],
    }
    if status in ("EGRESS_COMPLETE", "EGRESS_FAILED"):
        info["endedAt"] = str((AT + 3600) * SECOND)
        info["fileResults"][0].update(
            startedAt=str(AT * SECOND),
            endedAt=str((AT + 3600) * SECOND),
            duration=str(3599 * SECOND + 600_000_000),
            size="734003200",
        )
    if status == "EGRESS_FAILED":
        info["error"] = "Upload to S3 failed"
    return {"event": kind, "id": event_id, "createdAt": str(at), "egressInfo": info}


@recordings_on
class RecordingTestCase(LecternTestCase):
    def setUp(self) -> None:
        self.livekit = fake_livekit.serve_for(self)
        self.course = CourseFactory.create(teacher=self.alice)
        self.enrollment = Enrollment.objects.create(course=self.course, student=self.bob)
        self.session = CourseItemFactory.create(
            course=self.course,
            session=True,
            delivery=Delivery.LIVE,
            starts_at=timezone.now() - timedelta(minutes=10),
        )
        self.room = services.ensure_room(item=self.session)
        self.livekit.join(self.room.name, services.identity_for(self.alice))

    def post(self, name: str, user: User | None = None) -> Any:
        url = reverse(f"live:{name}", args=[self.session.pk])
        return self.new_client(user or self.alice).post(url)

    def recording(self, egress_id: str = "EG_1", **fields: Any) -> Recording:
        return Recording.objects.create(
            room=self.room,
            egress_id=egress_id,
            started_by=self.alice,
            storage_key=f"recordings/{self.room.name}/{egress_id}.mp4",
            **fields,
        )

    def deliver(self, *events: dict[str, Any]) -> None:
        for event in events:
            with self.captureOnCommitCallbacks(execute=True):
                assert post_event(self.client, event).status_code == 200


class StartStopTests(RecordingTestCase):
    def test_it_starts_a_composite_recording_into_the_bucket(self) -> None:
        response = self.post("recording_start")

        assert response.status_code == 200
        recording = Recording.objects.get()
        assert response.json() == {
            "ok": True,
            "recording": {"id": recording.pk, "status": "starting"},
        }
        [call] = self.livekit.calls
        assert call["method"] == "StartRoomCompositeEgress"
        assert call["grants"]["roomRecord"] is True
        assert call["request"]["room_name"] == self.room.name
        [output] = call["request"]["file_outputs"]
        assert output["filepath"] == recording.storage_key
        assert recording.storage_key.startswith(f"recordings/{self.room.name}/")
        assert output["s3"]["bucket"] == BUCKET
        assert recording.egress_id in self.livekit.egresses
        assert (recording.status, recording.started_by) == (Recording.Status.STARTING, self.alice)

    def test_one_recording_runs_at_a_time(self) -> None:
        self.post("recording_start")

        again = self.post("recording_start")

        assert again.status_code == 409
        assert again.json() == {"error": "A recording is already running."}
        assert Recording.objects.count() == 1

    def test_it_stops_the_running_recording(self) -> None:
        self.post("recording_start")
        recording = Recording.objects.get()

        response = self.post("recording_stop")

        assert response.status_code == 200
        assert response.json()["recording"] == {"id": recording.pk, "status": "ending"}
        stop = self.livekit.calls_to("StopEgress")[0]
        assert stop["request"] == {"egress_id": recording.egress_id}
        assert stop["grants"]["roomRecord"] is True
        assert self.livekit.egresses[recording.egress_id]["status"] == "EGRESS_ENDING"
        assert self.post("recording_start").status_code == 200

    def test_stopping_with_nothing_running_says_so(self) -> None:
        response = self.post("recording_stop")

        assert response.status_code == 409
        assert response.json() == {"error": "No recording is running."}

    def test_a_recording_livekit_already_ended_is_stopped_all_the_same(self) -> None:
        self.recording(status=Recording.Status.RECORDING)

        assert self.post("recording_stop").status_code == 200
        assert Recording.objects.get().status == Recording.Status.ENDING

    def test_an_empty_room_cant_be_recorded(self) -> None:
        self.livekit.rooms.clear()

        response = self.post("recording_start")

        assert response.status_code == 409
        assert response.json()["error"].startswith("Join the room first")
        assert not Recording.objects.exists()

    def test_nothing_is_stored_when_livekit_cant_be_reached(self) -> None:
        self.livekit.down()

        response = self.post("recording_start")

        assert response.status_code == 502
        assert not Recording.objects.exists()

    @override_settings(LIVE_RECORDINGS_BUCKET=None)
    def test_without_a_bucket_there_are_no_recordings(self) -> None:
        response = self.post("recording_start")

        assert response.status_code == 503
        assert response.json() == {"error": "Recordings aren't set up on this server."}
        assert self.livekit.calls == []

    def test_a_student_cant_record(self) -> None:
        assert self.post("recording_start", user=self.bob).status_code == 403
        assert self.post("recording_stop", user=self.bob).status_code == 403
        assert self.livekit.calls == []

    def test_an_ended_session_isnt_recorded(self) -> None:
        LiveRoom.objects.filter(pk=self.room.pk).update(ended_at=timezone.now())

        assert self.post("recording_start").status_code == 409


class EgressWebhookTests(RecordingTestCase):
    def events(self, egress_id: str) -> list[dict[str, Any]]:
        room = self.room.name
        return [
            egress_event(
                "egress_started",
                f"EV_{egress_id}_1",
                egress_id=egress_id,
                room=room,
                status="EGRESS_STARTING",
                at=AT,
            ),
            egress_event(
                "egress_updated",
                f"EV_{egress_id}_2",
                egress_id=egress_id,
                room=room,
                status="EGRESS_ACTIVE",
                at=AT + 2,
            ),
            egress_event(
                "egress_updated",
                f"EV_{egress_id}_3",
                egress_id=egress_id,
                room=room,
                status="EGRESS_ENDING",
                at=AT + 3600,
            ),
            egress_event(
                "egress_ended",
                f"EV_{egress_id}_4",
                egress_id=egress_id,
                room=room,
                status="EGRESS_COMPLETE",
                at=AT + 3601,
            ),
        ]

    def test_it_follows_the_recording_to_ready(self) -> None:
        recording = self.recording()
        started, active, _, ended = self.events("EG_1")

        self.deliver(started, active)
        recording.refresh_from_db()
        assert recording.status == Recording.Status.RECORDING
        assert recording.started_at is not None
        assert recording.started_at.timestamp() == AT

        self.deliver(ended)
        recording.refresh_from_db()
        assert recording.status == Recording.Status.READY
        assert recording.ended_at is not None
        assert recording.ended_at.timestamp() == AT + 3600
        assert recording.duration_seconds == 3600
        assert recording.size_bytes == 734_003_200
        assert recording.error == ""

    def test_shuffled_and_duplicated_events_end_in_the_same_ready_recording(self) -> None:
        outcomes = set()
        for number, order in enumerate(itertools.permutations(range(4))):
            egress_id = f"EG_{number}"
            recording = self.recording(egress_id)
            events = self.events(egress_id)
            self.deliver(*[events[i] for i in order], events[order[0]], events[order[-1]])
            recording.refresh_from_db()
            outcomes.add(
                (
                    recording.status,
                    recording.started_at,
                    recording.ended_at,
                    recording.duration_seconds,
                    recording.size_bytes,
                )
            )
        assert len(outcomes) == 1
        [(status, *_)] = outcomes
        assert status == Recording.Status.READY

    def test_a_failed_egress_fails_the_recording_with_its_error(self) -> None:
        recording = self.recording()
        failed = egress_event(
            "egress_ended",
            "EV_f",
            egress_id="EG_1",
            room=self.room.name,
            status="EGRESS_FAILED",
            at=AT + 60,
        )

        self.deliver(failed, self.events("EG_1")[1])

        recording.refresh_from_db()
        assert recording.status == Recording.Status.FAILED
        assert recording.error == "Upload to S3 failed"

    def test_an_egress_lectern_didnt_start_changes_nothing(self) -> None:
        self.deliver(self.events("EG_other")[3])

        assert not Recording.objects.exists()

    def test_the_event_is_stored_under_the_egress_room(self) -> None:
        self.recording()
        self.deliver(self.events("EG_1")[0])

        assert LiveKitEvent.objects.get().room_name == self.room.name


class WatchingTests(RecordingTestCase):
    def setUp(self) -> None:
        super().setUp()
        aws = mock_aws()
        aws.start()
        self.addCleanup(aws.stop)
        self.s3 = boto3.client(
            "s3",
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        self.ready = self.recording(
            status=Recording.Status.READY,
            started_at=timezone.now() - timedelta(hours=1),
            duration_seconds=3600,
            size_bytes=11,
        )
        self.s3.put_object(Bucket=BUCKET, Key=self.ready.storage_key, Body=b"mp4 content")

    def watch(self, user: User | None, recording: Recording | None = None) -> Any:
        url = reverse("live:recording", args=[(recording or self.ready).pk])
        return self.new_client(user).get(url)

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def test_the_teacher_and_an_enrolled_student_get_a_short_lived_inline_url(self) -> None:
        for person in (self.alice, self.bob):
            response = self.watch(person)

            assert response.status_code == 302
            assert response["Cache-Control"] == "no-store"
            url = urlsplit(response["Location"])
            assert url.path.endswith(f"/{self.ready.storage_key}")
            query = parse_qs(url.query)
            assert query["X-Amz-Expires"] == ["60"]
            assert "X-Amz-Signature" in query
            assert query["response-content-type"] == ["video/mp4"]
            assert query["response-content-disposition"][0].startswith("inline")

    def test_anyone_else_is_told_there_is_no_such_recording(self) -> None:
        for person in (self.dave, self.carol, self.staff):
            response = self.watch(person)
            assert response.status_code == 404
            assert "Location" not in response

    def test_a_student_whose_enrolment_ended_cant_watch(self) -> None:
        self.enrollment.status = Enrollment.Status.LEFT
        self.enrollment.save(update_fields=["status"])

        assert self.watch(self.bob).status_code == 404

    def test_a_recording_not_ready_is_not_offered(self) -> None:
        running = self.recording("EG_2", status=Recording.Status.RECORDING)

        assert self.watch(self.alice, running).status_code == 404
        links = recordings.links_for(self.session, self.bob)
        assert [link.url for link in links] == [reverse("live:recording", args=[self.ready.pk])]
        assert links[0].duration_seconds == 3600
        assert recordings.links_for(self.session, self.dave) == []

    def test_a_visitor_is_sent_to_log_in(self) -> None:
        response = self.watch(None)

        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]

    def test_deleting_the_course_deletes_the_files(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            course_services.delete_course(course=self.course)

        assert not Recording.objects.exists()
        assert self.keys() == []

    def test_erasing_the_teacher_deletes_the_files(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            request = deletion.request_deletion(user=self.alice)
        DeletionRequest.objects.filter(pk=request.pk).update(
            erase_after=timezone.now() - timedelta(seconds=1)
        )

        with self.captureOnCommitCallbacks(execute=True):
            sweep_retention_task.delay()

        request.refresh_from_db()
        assert request.state == DeletionRequest.State.COMPLETED, request.error
        assert request.steps["live.Recording"] == 1
        assert self.keys() == []
        assert not Recording.objects.exists()

    def test_the_teachers_recordings_are_erased_before_their_courses(self) -> None:
        order = [entry.label for entry in deletion.erasure_order()]

        assert order.index("live.Recording") < order.index("courses.Course")

    @override_settings(LIVE_RECORDINGS_KEEP_DAYS=30)
    def test_recordings_go_after_the_days_kept(self) -> None:
        old = self.recording("EG_old", status=Recording.Status.READY)
        Recording.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
        self.s3.put_object(Bucket=BUCKET, Key=old.storage_key, Body=b"old")

        with self.captureOnCommitCallbacks(execute=True):
            outcome = sweep_rule(registry.entries["live.Recording"])

        assert outcome.rows == 1
        assert list(Recording.objects.all()) == [self.ready]
        assert self.keys() == [self.ready.storage_key]

    def test_without_a_retention_period_nothing_is_swept(self) -> None:
        Recording.objects.update(created_at=timezone.now() - timedelta(days=3000))

        assert sweep_rule(registry.entries["live.Recording"]).rows == 0

    def test_the_teacher_deletes_a_recording_and_its_file(self) -> None:
        item_page = reverse("courses:item", args=[self.course.slug, self.session.pk])
        page = self.new_client(self.alice).get(item_page).content.decode()
        delete_url = reverse("live:recording_delete", args=[self.ready.pk])
        assert f'action="{delete_url}"' in page
        assert delete_url not in self.new_client(self.bob).get(item_page).content.decode()

        with self.captureOnCommitCallbacks(execute=True):
            response = self.new_client(self.alice).post(delete_url)

        assert response.status_code == 302
        assert response["Location"] == item_page
        assert not Recording.objects.exists()
        assert self.keys() == []

    def test_nobody_else_deletes_a_recording_nor_one_still_being_written(self) -> None:
        running = self.recording("EG_2", status=Recording.Status.RECORDING)
        delete = lambda user, rec: self.new_client(user).post(  # noqa: E731
            reverse("live:recording_delete", args=[rec.pk])
        )

        for person in (self.bob, self.dave, self.staff):
            assert delete(person, self.ready).status_code == 404
        assert delete(self.alice, running).status_code == 404
        assert (
            self.new_client(self.alice)
            .get(reverse("live:recording_delete", args=[self.ready.pk]))
            .status_code
            == 405
        )
        assert Recording.objects.count() == 2
        assert self.keys() == [self.ready.storage_key]
