from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from livekit import api

from accounts.models import User
from courses.models import Course, CourseItem, Delivery, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import services
from live.models import LiveRoom
from live.tests.kit import KEY, SECRET, URL, livekit_on
from tests.base import LecternTestCase


def _claims(token: str) -> Any:
    """Return the token's claims, checked with the server's key and secret as LiveKit does."""
    claims = api.TokenVerifier(KEY, SECRET).verify(token)
    assert claims.video is not None
    return claims


@livekit_on
class JoinTokenTestCase(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice)
        self.enrollment = Enrollment.objects.create(course=self.course, student=self.bob)
        self.session = self._session(starts_in=timedelta(minutes=5))

    def _session(
        self, *, starts_in: timedelta, duration: int = 60, course: Course | None = None
    ) -> CourseItem:
        return CourseItemFactory.create(
            course=course or self.course,
            session=True,
            delivery=Delivery.LIVE,
            starts_at=timezone.now() + starts_in,
            duration_minutes=duration,
        )

    def _post(self, user: User, item: CourseItem | None = None) -> Any:
        self.login(user)
        return self.client.post(reverse("live:join_token", args=[(item or self.session).pk]))

    def test_it_gives_the_teacher_admin_publish_and_record_rights(self) -> None:
        response = self._post(self.alice)

        assert response.status_code == 200
        answer = response.json()
        room = LiveRoom.objects.get(item=self.session)
        assert answer["url"] == URL
        assert answer["room"] == room.name
        claims = _claims(answer["token"])
        assert claims.identity == services.identity_for(self.alice)
        assert claims.name == self.alice.get_full_name()
        assert claims.video.room == room.name
        assert claims.video.room_join
        assert claims.video.room_admin
        assert claims.video.room_record
        assert claims.video.can_publish
        assert claims.video.can_publish_data

    def test_it_lets_a_student_watch_and_send_data_but_not_publish(self) -> None:
        claims = _claims(self._post(self.bob).json()["token"])

        assert claims.name == "Bob Baker"
        assert claims.video.can_subscribe
        assert claims.video.can_publish_data
        assert not claims.video.can_publish
        assert not claims.video.room_admin
        assert not claims.video.room_record

    def test_it_lets_a_student_on_stage_publish(self) -> None:
        grants = services.join_grants(
            user=self.bob, item=self.session, now=timezone.now(), on_stage=True
        )

        assert grants.can_publish
        assert not grants.room_admin

    def test_it_gives_everyone_the_same_room_and_no_name_in_it(self) -> None:
        teacher_room = self._post(self.alice).json()["room"]
        student_room = self._post(self.bob).json()["room"]

        assert teacher_room == student_room
        assert self.course.title not in teacher_room
        assert len(teacher_room) >= 20
        assert LiveRoom.objects.count() == 1
        later = self._session(starts_in=timedelta(minutes=10))
        assert self._post(self.bob, later).json()["room"] != teacher_room

    def test_it_keeps_identities_opaque_and_checkable(self) -> None:
        identity = services.identity_for(self.bob)

        assert "bob" not in identity.lower()
        assert services.user_id_for(identity) == self.bob.pk
        assert services.user_id_for(f"u{self.alice.pk}-{identity.split('-')[1]}") is None
        assert services.user_id_for("someone") is None

    def test_it_refuses_an_outsider(self) -> None:
        assert self._post(self.carol).status_code == 404
        assert self._post(self.dave).status_code == 404
        assert not LiveRoom.objects.exists()

    def test_it_refuses_a_removed_student(self) -> None:
        self.enrollment.status = Enrollment.Status.REMOVED
        self.enrollment.save(update_fields=["status"])

        assert self._post(self.bob).status_code == 404

    def test_it_hides_another_courses_session(self) -> None:
        other = self._session(
            starts_in=timedelta(minutes=5), course=CourseFactory.create(teacher=self.carol)
        )

        assert self._post(self.alice, other).status_code == 404
        assert self._post(self.bob, other).status_code == 404

    def test_it_hides_an_item_that_is_not_a_session(self) -> None:
        material = CourseItemFactory.create(course=self.course)

        assert self._post(self.alice, material).status_code == 404

    def test_it_refuses_before_the_room_opens(self) -> None:
        early = self._session(starts_in=timedelta(minutes=16))

        response = self._post(self.bob, early)

        assert response.status_code == 403
        assert "15 minutes before" in response.json()["error"]
        assert self._post(self.alice, early).status_code == 403

    def test_it_opens_the_room_15_minutes_before_the_start(self) -> None:
        soon = self._session(starts_in=timedelta(minutes=14))

        assert self._post(self.bob, soon).status_code == 200

    @override_settings(LIVE_JOIN_GRACE_MINUTES=30)
    def test_it_keeps_the_room_open_for_the_grace_period(self) -> None:
        ended = self._session(starts_in=-timedelta(minutes=80), duration=60)
        over = self._session(starts_in=-timedelta(minutes=91), duration=60)

        assert self._post(self.bob, ended).status_code == 200
        response = self._post(self.bob, over)
        assert response.status_code == 403
        assert response.json()["error"] == "This session has ended."

    def test_it_hides_an_unpublished_session_from_students(self) -> None:
        self.session.published = False
        self.session.save(update_fields=["published"])

        assert self._post(self.bob).status_code == 404
        assert self._post(self.alice).status_code == 200

    def test_it_rejects_get(self) -> None:
        self.login(self.alice)

        assert (
            self.client.get(reverse("live:join_token", args=[self.session.pk])).status_code == 405
        )

    @override_settings(LIVEKIT_URL="")
    def test_it_says_when_live_classes_are_off(self) -> None:
        response = self._post(self.alice)

        assert response.status_code == 503
        assert "set up" in response.json()["error"]
        assert not LiveRoom.objects.exists()

    def test_it_answers_404_for_an_id_out_of_range(self) -> None:
        self.login(self.alice)

        response = self.client.post(reverse("live:join_token", args=[10**20]))

        assert response.status_code == 404


class ExternalSessionTokenTestCase(LecternTestCase):
    @livekit_on
    def test_a_session_at_a_meeting_link_has_no_live_room(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=course, student=self.bob)
        external = CourseItemFactory.create(
            course=course, session=True, starts_at=timezone.now() + timedelta(minutes=5)
        )
        self.login(self.bob)

        response = self.client.post(reverse("live:join_token", args=[external.pk]))

        assert response.status_code == 403
        assert response.json()["error"] == (
            "This session takes place at its meeting link, not on Lectern."
        )
        assert not LiveRoom.objects.exists()
