"""The teacher's controls: mute, remove, stage and end, as LiveKit's stand-in receives them."""

from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courses.models import Delivery, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import services
from live.models import LiveRoom
from live.tests import fake_livekit
from tests.base import LecternTestCase


class ControlsTestCase(LecternTestCase):
    def setUp(self) -> None:
        self.livekit = fake_livekit.serve_for(self)
        self.course = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=self.course, student=self.bob)
        self.session = CourseItemFactory.create(
            course=self.course,
            session=True,
            delivery=Delivery.LIVE,
            starts_at=timezone.now() - timedelta(minutes=10),
        )
        self.room = services.ensure_room(item=self.session)
        self.bob_id = services.identity_for(self.bob)
        self.livekit.join(self.room.name, services.identity_for(self.alice), tracks=["audio"])
        self.livekit.join(self.room.name, self.bob_id, tracks=["audio", "video"])

    def post(self, name: str, *args: Any, user: User | None = None, **data: str) -> Any:
        url = reverse(f"live:{name}", args=[self.session.pk, *args])
        return self.new_client(user or self.alice).post(url, data)

    def fresh_room(self) -> LiveRoom:
        return LiveRoom.objects.get(pk=self.room.pk)


class MuteTests(ControlsTestCase):
    def test_it_mutes_every_track_the_student_publishes(self) -> None:
        response = self.post("mute", self.bob_id)

        assert response.status_code == 200
        assert response.json() == {"ok": True, "muted": 2}
        calls = [c for c in self.livekit.calls if c["method"] != "GetParticipant"]
        assert [c["method"] for c in calls] == ["MutePublishedTrack", "MutePublishedTrack"]
        for call in calls:
            assert call["grants"]["roomAdmin"] is True
            assert call["grants"]["room"] == self.room.name
            assert call["request"]["identity"] == self.bob_id
            assert call["request"]["muted"] is True
        assert all(t["muted"] for t in self.livekit.rooms[self.room.name][self.bob_id]["tracks"])

    def test_it_refuses_the_teachers_own_identity_and_nonsense(self) -> None:
        own = self.post("mute", services.identity_for(self.alice))
        nonsense = self.post("mute", "u1-forged")

        assert own.status_code == 409
        assert own.json() == {"error": "You can't do that to yourself."}
        assert nonsense.status_code == 409
        assert nonsense.json() == {"error": "There is no such participant."}
        assert self.livekit.calls == []


class RemoveTests(ControlsTestCase):
    def test_it_disconnects_the_student_and_keeps_them_out(self) -> None:
        self.room.on_stage = [self.bob_id]
        self.room.save(update_fields=["on_stage"])

        response = self.post("remove", self.bob_id)

        assert response.json() == {"ok": True, "removed": self.bob_id}
        [call] = self.livekit.calls
        assert call["method"] == "RemoveParticipant"
        assert call["request"] == {"room": self.room.name, "identity": self.bob_id}
        assert call["grants"]["roomAdmin"] is True
        assert self.bob_id not in self.livekit.rooms[self.room.name]
        room = self.fresh_room()
        assert room.removed == [self.bob_id]
        assert room.on_stage == []

    def test_removing_twice_is_harmless(self) -> None:
        self.post("remove", self.bob_id)
        again = self.post("remove", self.bob_id)

        assert again.status_code == 200
        assert self.fresh_room().removed == [self.bob_id]

    def test_nothing_changes_when_livekit_cant_be_reached(self) -> None:
        self.livekit.down()

        response = self.post("remove", self.bob_id)

        assert response.status_code == 502
        assert "can't be reached" in response.json()["error"]
        assert "nothing changed" in response.json()["error"]
        assert self.fresh_room().removed == []

    def test_nothing_changes_when_livekit_fails(self) -> None:
        self.livekit.failing = 500

        response = self.post("remove", self.bob_id)

        assert response.status_code == 502
        assert self.fresh_room().removed == []


class StageTests(ControlsTestCase):
    def test_the_stage_list_is_unchanged_when_livekit_fails(self) -> None:
        self.livekit.failing = 503

        response = self.post("stage", self.bob_id, on="1")

        assert response.status_code == 502
        assert self.fresh_room().on_stage == []
        assert self.livekit.rooms[self.room.name][self.bob_id]["permission"]["can_publish"] is False

    def test_it_takes_only_on_or_off(self) -> None:
        response = self.post("stage", self.bob_id, on="yes")

        assert response.status_code == 400
        assert self.livekit.calls == []

    def test_only_enrolled_students_go_on_stage(self) -> None:
        response = self.post("stage", services.identity_for(self.dave), on="1")

        assert response.status_code == 409
        assert "enrolled students" in response.json()["error"]
        assert self.fresh_room().on_stage == []

    def test_off_stage_a_student_keeps_publishing_when_the_course_allows_it(self) -> None:
        self.course.students_may_publish = True
        self.course.save(update_fields=["students_may_publish"])

        self.post("stage", self.bob_id, on="0")

        assert self.livekit.rooms[self.room.name][self.bob_id]["permission"]["can_publish"] is True


class EndTests(ControlsTestCase):
    def test_it_ends_the_room_for_everyone(self) -> None:
        response = self.post("end")

        assert response.status_code == 200
        [call] = self.livekit.calls
        assert call["method"] == "DeleteRoom"
        assert call["request"] == {"room": self.room.name}
        assert call["grants"]["roomCreate"] is True
        assert self.room.name not in self.livekit.rooms
        room = self.fresh_room()
        assert room.ended_at is not None
        assert response.json() == {"ok": True, "ended_at": room.ended_at.isoformat()}

    def test_an_ended_session_takes_no_more_controls(self) -> None:
        self.post("end")

        response = self.post("remove", self.bob_id)

        assert response.status_code == 409
        assert response.json() == {"error": "This session has ended."}

    def test_the_session_goes_on_when_livekit_cant_be_reached(self) -> None:
        self.livekit.down()

        response = self.post("end")

        assert response.status_code == 502
        assert self.fresh_room().ended_at is None


class AccessTests(ControlsTestCase):
    def test_an_enrolled_student_is_refused(self) -> None:
        for name, args in (("mute", [self.bob_id]), ("remove", [self.bob_id]), ("end", [])):
            response = self.post(name, *args, user=self.bob)
            assert response.status_code == 403
            assert response.json() == {"error": "Only the course's teacher can do that."}
        assert self.livekit.calls == []

    def test_anyone_else_is_told_there_is_no_such_session(self) -> None:
        assert self.post("end", user=self.dave).status_code == 404
        assert self.post("end", user=self.carol).status_code == 404
        assert self.livekit.calls == []

    def test_a_get_is_not_allowed(self) -> None:
        url = reverse("live:end", args=[self.session.pk])
        assert self.new_client(self.alice).get(url).status_code == 405

    def test_it_needs_the_csrf_token(self) -> None:
        client = self.new_client(self.alice, enforce_csrf_checks=True)
        response = client.post(reverse("live:end", args=[self.session.pk]))

        assert response.status_code == 403
        assert self.fresh_room().ended_at is None

    def test_an_external_link_session_has_no_controls(self) -> None:
        external = CourseItemFactory.create(course=self.course, session=True)
        response = self.new_client(self.alice).post(reverse("live:end", args=[external.pk]))

        assert response.status_code == 409
        assert "external link" in response.json()["error"]

    @override_settings(LIVEKIT_URL="")
    def test_an_unconfigured_server_says_so(self) -> None:
        response = self.post("end")

        assert response.status_code == 503
        assert response.json() == {"error": "Live classes aren't set up on this server."}
