import json
from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courses.models import CourseItem, Delivery, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import services
from live.models import LiveRoom
from live.tests.kit import livekit_on
from tests.base import LecternTestCase


@livekit_on
class RoomPageTestCase(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice)
        self.enrollment = Enrollment.objects.create(course=self.course, student=self.bob)
        self.session = self._session(starts_in=timedelta(minutes=5))

    def _session(self, *, starts_in: timedelta, **fields: Any) -> CourseItem:
        fields.setdefault("delivery", Delivery.LIVE)
        return CourseItemFactory.create(
            course=self.course,
            session=True,
            starts_at=timezone.now() + starts_in,
            duration_minutes=60,
            **fields,
        )

    def _get(self, user: User | None, item: CourseItem | None = None) -> Any:
        if user is not None:
            self.login(user)
        return self.client.get(reverse("live:room", args=[(item or self.session).pk]))

    def _config(self, response: Any) -> Any:
        return response.context["room_config"]

    def _closed_reason(self, response: Any) -> str:
        assert response.status_code == 200
        self.assertTemplateUsed(response, "live/closed.html")
        reason: str = response.context["closed"].reason
        return reason

    # --- Who sees the page

    def test_it_shows_the_teacher_the_device_check_and_teacher_controls(self) -> None:
        response = self._get(self.alice)

        assert response.status_code == 200
        self.assertTemplateUsed(response, "live/room.html")
        assert response.context["is_teacher"]
        assert response.context["may_publish"]
        config = self._config(response)
        assert config["isTeacher"]
        assert config["mayPublish"]
        assert config["tokenUrl"] == reverse("live:join_token", args=[self.session.pk])
        assert config["identity"] == services.identity_for(self.alice)
        assert config["teacherIdentity"] == services.identity_for(self.alice)
        assert config["controls"]["end"] == reverse("live:end", args=[self.session.pk])
        assert "__identity__" in config["controls"]["mute"]
        self.assertContains(response, "Check your camera and microphone")
        self.assertContains(response, "End for everyone")
        self.assertContains(response, 'data-action="remove"')

    def test_it_lets_a_listening_student_join_without_a_device_check(self) -> None:
        response = self._get(self.bob)

        assert response.status_code == 200
        assert not response.context["is_teacher"]
        config = self._config(response)
        assert not config["mayPublish"]
        assert "controls" not in config
        assert config["teacherIdentity"] == services.identity_for(self.alice)
        self.assertContains(response, "Join as listener")
        self.assertNotContains(response, "Check your camera and microphone")
        self.assertNotContains(response, "End for everyone")
        self.assertNotContains(response, 'data-action="remove"')

    def test_it_checks_devices_for_students_when_the_course_lets_them_speak(self) -> None:
        self.course.students_may_publish = True
        self.course.save(update_fields=["students_may_publish"])

        response = self._get(self.bob)

        assert self._config(response)["mayPublish"]
        self.assertContains(response, "Check your camera and microphone")

    def test_it_checks_devices_for_a_student_on_stage(self) -> None:
        room = services.ensure_room(item=self.session)
        room.on_stage = [services.identity_for(self.bob)]
        room.save(update_fields=["on_stage"])

        assert self._config(self._get(self.bob))["mayPublish"]

    def test_it_hides_the_page_from_outsiders_and_other_teachers(self) -> None:
        for person in (self.dave, self.carol, self.staff):
            with self.subTest(person=person.email):
                assert self._get(person).status_code == 404

    def test_it_hides_the_page_from_a_student_who_left(self) -> None:
        self.enrollment.status = Enrollment.Status.LEFT
        self.enrollment.save(update_fields=["status"])

        assert self._get(self.bob).status_code == 404

    def test_it_hides_an_unpublished_session_from_students(self) -> None:
        draft = self._session(starts_in=timedelta(minutes=5), published=False)

        assert self._get(self.bob, draft).status_code == 404
        assert self._get(self.alice, draft).status_code == 200

    def test_it_hides_items_that_are_not_sessions(self) -> None:
        material = CourseItemFactory.create(course=self.course)

        assert self._get(self.alice, material).status_code == 404

    def test_it_sends_visitors_to_log_in(self) -> None:
        response = self._get(None)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_it_refuses_post(self) -> None:
        self.login(self.alice)

        assert self.client.post(reverse("live:room", args=[self.session.pk])).status_code == 405

    # --- When the room can't be joined, a page says why

    def test_it_explains_a_session_held_on_an_external_link(self) -> None:
        external = self._session(starts_in=timedelta(minutes=5), delivery=Delivery.EXTERNAL)

        response = self._get(self.bob, external)

        assert self._closed_reason(response) == "not_live"
        self.assertContains(response, "external link")
        self.assertContains(response, reverse("courses:item", args=[self.course.slug, external.pk]))

    @override_settings(LIVEKIT_URL="")
    def test_it_explains_that_live_classes_are_not_set_up(self) -> None:
        response = self._get(self.alice)

        assert self._closed_reason(response) == "not_configured"
        self.assertContains(response, "LIVEKIT_URL")

    def test_it_explains_that_the_room_is_not_open_yet(self) -> None:
        later = self._session(starts_in=timedelta(hours=2))

        response = self._get(self.bob, later)

        assert self._closed_reason(response) == "not_open_yet"
        self.assertContains(response, "The room opens 15 minutes before the session starts.")
        opens, _ = services.join_window(later)
        assert response.context["opens_at"] == opens
        assert not LiveRoom.objects.filter(item=later).exists()

    def test_it_lets_people_in_from_fifteen_minutes_before(self) -> None:
        soon = self._session(starts_in=timedelta(minutes=14))

        response = self._get(self.bob, soon)

        self.assertTemplateUsed(response, "live/room.html")

    def test_it_explains_that_the_session_has_ended(self) -> None:
        past = self._session(starts_in=timedelta(hours=-3))

        assert self._closed_reason(self._get(self.bob, past)) == "ended"

    def test_it_explains_that_the_teacher_ended_the_session(self) -> None:
        room = services.ensure_room(item=self.session)
        room.ended_at = timezone.now()
        room.save(update_fields=["ended_at"])

        assert self._closed_reason(self._get(self.bob)) == "ended"

    def test_it_tells_a_removed_student_they_cannot_rejoin(self) -> None:
        room = services.ensure_room(item=self.session)
        room.removed = [services.identity_for(self.bob)]
        room.save(update_fields=["removed"])

        response = self._get(self.bob)

        assert self._closed_reason(response) == "removed"
        self.assertContains(response, "The teacher removed you from this session.")
        self.assertNotContains(response, "live-room-config")
        self.assertTemplateUsed(self._get(self.alice), "live/room.html")

    # --- What the page carries

    def test_it_shows_recording_controls_only_when_recordings_have_a_bucket(self) -> None:
        with override_settings(LIVE_RECORDINGS_BUCKET=""):
            response = self._get(self.alice)
            assert not self._config(response)["recordingEnabled"]
            self.assertNotContains(response, "data-recording=")
        with override_settings(LIVE_RECORDINGS_BUCKET="recordings"):
            response = self._get(self.alice)
            assert self._config(response)["recordingEnabled"]
            self.assertContains(response, 'data-recording="start"')
            assert not self._config(self._get(self.bob))["recordingEnabled"]

    def test_it_writes_the_config_as_json_not_as_markup(self) -> None:
        self.alice.first_name = "</script><script>alert(1)</script>"
        self.alice.save(update_fields=["first_name"])

        response = self._get(self.bob)

        content = response.content.decode()
        assert "<script>alert(1)" not in content
        start = content.index('id="live-room-config"')
        raw = content[content.index(">", start) + 1 : content.index("</script>", start)]
        assert json.loads(raw)["tokenUrl"] == reverse("live:join_token", args=[self.session.pk])

    def test_it_loads_livekit_from_our_own_origin(self) -> None:
        response = self._get(self.alice)

        self.assertContains(response, 'src="/static/vendor/livekit-client.umd.js"')
        self.assertContains(response, 'src="/static/live/room.js"')
