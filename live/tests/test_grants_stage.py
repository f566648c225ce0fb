"""Who gets a token with which rights: the course's setting, the stage, removal, an end."""

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from livekit import api

from accounts.models import User
from billing.models import PlanCapState
from courses.models import CourseItem, Delivery, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import services
from live.tests import fake_livekit
from live.tests.kit import KEY, SECRET
from tests.base import LecternTestCase


def claims_of(answer: Any) -> Any:
    return api.TokenVerifier(KEY, SECRET).verify(answer.json()["token"])


class GrantsTestCase(LecternTestCase):
    def setUp(self) -> None:
        self.livekit = fake_livekit.serve_for(self)
        self.course = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=self.course, student=self.bob)
        self.session = CourseItemFactory.create(
            course=self.course,
            session=True,
            delivery=Delivery.LIVE,
            starts_at=timezone.now() + timedelta(minutes=5),
            duration_minutes=60,
        )
        self.room = services.ensure_room(item=self.session)
        self.bob_id = services.identity_for(self.bob)

    def token(self, user: User, item: CourseItem | None = None) -> Any:
        client = self.new_client(user)
        return client.post(reverse("live:join_token", args=[(item or self.session).pk]))

    def stage(self, on: str) -> Any:
        url = reverse("live:stage", args=[self.session.pk, self.bob_id])
        return self.new_client(self.alice).post(url, {"on": on})

    def test_it_lets_students_publish_when_the_course_says_so(self) -> None:
        assert not claims_of(self.token(self.bob)).video.can_publish

        self.course.students_may_publish = True
        self.course.save(update_fields=["students_may_publish"])

        video = claims_of(self.token(self.bob)).video
        assert video.can_publish
        assert not video.room_admin

    def test_an_invitation_on_stage_changes_the_permission_now_and_the_next_token(self) -> None:
        self.livekit.join(self.room.name, self.bob_id)

        assert self.stage("1").json() == {"ok": True, "identity": self.bob_id, "on_stage": True}

        assert self.livekit.rooms[self.room.name][self.bob_id]["permission"] == {
            "can_subscribe": True,
            "can_publish": True,
            "can_publish_data": True,
        }
        [call] = self.livekit.calls_to("UpdateParticipant")
        assert call["grants"]["roomAdmin"] is True
        assert call["grants"]["room"] == self.room.name
        assert call["request"]["identity"] == self.bob_id
        assert claims_of(self.token(self.bob)).video.can_publish

        assert self.stage("0").json()["on_stage"] is False

        assert not self.livekit.rooms[self.room.name][self.bob_id]["permission"]["can_publish"]
        assert not claims_of(self.token(self.bob)).video.can_publish

    def test_an_invitation_stands_for_a_student_not_in_the_room_yet(self) -> None:
        assert self.stage("1").status_code == 200

        self.room.refresh_from_db()
        assert self.room.on_stage == [self.bob_id]
        assert claims_of(self.token(self.bob)).video.can_publish

    def test_a_removed_student_gets_no_token(self) -> None:
        self.livekit.join(self.room.name, self.bob_id)
        url = reverse("live:remove", args=[self.session.pk, self.bob_id])
        assert self.new_client(self.alice).post(url).status_code == 200

        response = self.token(self.bob)

        assert response.status_code == 403
        assert response.json() == {"error": "The teacher removed you from this session."}
        assert self.token(self.alice).status_code == 200

    def test_nobody_gets_a_token_once_the_teacher_ended_the_session(self) -> None:
        ended = self.new_client(self.alice).post(reverse("live:end", args=[self.session.pk]))
        assert ended.status_code == 200

        for person in (self.bob, self.alice):
            response = self.token(person)
            assert response.status_code == 403
            assert response.json() == {"error": "The teacher ended this session."}

    def test_an_outsider_gets_no_token(self) -> None:
        assert self.token(self.dave).status_code == 404

    def test_a_student_gets_no_token_outside_the_window(self) -> None:
        early = CourseItemFactory.create(
            course=self.course,
            session=True,
            delivery=Delivery.LIVE,
            starts_at=timezone.now() + timedelta(hours=2),
        )
        over = CourseItemFactory.create(
            course=self.course,
            session=True,
            delivery=Delivery.LIVE,
            starts_at=timezone.now() - timedelta(hours=3),
            duration_minutes=60,
        )

        assert self.token(self.bob, early).json()["error"].startswith("The room opens")
        assert self.token(self.bob, over).json() == {"error": "This session has ended."}

    def test_a_teacher_whose_sales_are_blocked_still_teaches(self) -> None:
        PlanCapState.objects.create(
            teacher=self.alice,
            state=PlanCapState.State.HARD_BLOCK,
            active_students=11,
            cap=10,
            blocked_at=timezone.now(),
        )

        teacher = self.token(self.alice)
        student = self.token(self.bob)

        assert teacher.status_code == 200
        assert claims_of(teacher).video.room_admin
        assert student.status_code == 200
