"""Sessions held live on Lectern, from the courses' side: choosing it, settings, pages, calendar."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from courses import live
from courses.models import CourseItem, Delivery, Enrollment, Visibility
from courses.services import calendar as calendar_services
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from courses.tests.test_teaching_course_form import course_data
from live.models import LiveRoom, Recording
from live.tests.kit import livekit_on
from tests.base import LecternTestCase, assert_constant_queries

livekit_off = override_settings(LIVEKIT_URL="", LIVEKIT_API_KEY="", LIVEKIT_API_SECRET="")
# The reason a teacher reads, up to its apostrophe (escaped in HTML).
REASON = "t set up on this server yet: the operator adds a LiveKit server in the settings."


def _live_session(course: Any, **fields: Any) -> CourseItem:
    fields = {"meeting_url": "", "title": "Week 1: washes", **fields}
    return CourseItemFactory.create(course=course, session=True, delivery=Delivery.LIVE, **fields)


def _recording(item: CourseItem, number: int, **fields: Any) -> Recording:
    room, _ = LiveRoom.objects.get_or_create(item=item, defaults={"name": f"room-{item.pk}"})
    values: dict[str, Any] = {
        "status": Recording.Status.READY,
        "storage_key": f"recordings/{number}.mp4",
        "started_at": timezone.now() - timedelta(hours=2),
        "duration_seconds": 3725,
        "size_bytes": 12_582_912,
        **fields,
    }
    return Recording.objects.create(room=room, egress_id=f"EG_{item.pk}_{number}", **values)


def _session_form_data(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Week 1: washes",
        "day": "2027-03-10",
        "at": "18:00",
        "duration_minutes": "90",
        "meeting_url": "",
        "published": "on",
        **overrides,
    }


class SessionFormTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="paint")
        self.new_url = reverse("courses:teach_item_new", args=["paint", "session"])
        self.login(self.alice)

    def edit_url(self, item: CourseItem) -> str:
        return reverse("courses:teach_item_edit", args=["paint", item.pk])

    @livekit_on
    def test_it_offers_live_on_lectern_when_the_server_has_livekit(self) -> None:
        response = self.client.get(self.new_url)

        self.assertContains(response, "Where it takes place")
        self.assertContains(response, 'type="radio" name="delivery" value="live" ', html=False)
        self.assertNotContains(response, REASON)
        live_input = self._input(response, "live")
        assert "disabled" not in live_input
        assert "checked" in self._input(response, "external")

    @livekit_off
    def test_it_shows_live_disabled_with_the_reason_without_livekit(self) -> None:
        response = self.client.get(self.new_url)

        self.assertContains(response, REASON)
        assert "disabled" in self._input(response, "live")
        assert "checked" in self._input(response, "external")

    @livekit_off
    def test_it_refuses_a_live_session_without_livekit(self) -> None:
        response = self.client.post(self.new_url, _session_form_data(delivery="live"))

        assert response.status_code == 400
        assert REASON in str(response.context["form"].errors["delivery"])
        assert not CourseItem.objects.exists()

    @livekit_on
    def test_it_adds_a_live_session_without_a_meeting_link(self) -> None:
        response = self.client.post(self.new_url, _session_form_data(delivery="live"))

        item = CourseItem.objects.get()
        self.assertRedirects(
            response, f"{reverse('courses:teach_course', args=['paint'])}#item-{item.pk}"
        )
        assert item.delivery == Delivery.LIVE
        assert item.meeting_url == ""

    @livekit_on
    def test_it_ignores_the_hidden_meeting_link_of_a_live_session(self) -> None:
        item = CourseItemFactory.create(course=self.course, session=True)
        stored = item.meeting_url

        response = self.client.post(
            self.edit_url(item),
            _session_form_data(delivery="live", meeting_url="https://example.com/not-a-meeting"),
        )

        assert response.status_code == 302
        item.refresh_from_db()
        assert item.delivery == Delivery.LIVE
        assert item.meeting_url == stored

    @livekit_on
    def test_it_still_checks_the_link_of_an_external_session(self) -> None:
        response = self.client.post(
            self.new_url,
            _session_form_data(delivery="external", meeting_url="https://example.com/x"),
        )

        assert response.status_code == 400
        assert "meeting_url" in response.context["form"].errors

    def test_it_keeps_the_delivery_when_an_old_form_sends_none(self) -> None:
        item = _live_session(self.course)

        with livekit_off:
            response = self.client.post(self.edit_url(item), _session_form_data(title="Renamed"))

        assert response.status_code == 302
        item.refresh_from_db()
        assert (item.title, item.delivery) == ("Renamed", Delivery.LIVE)

    @livekit_off
    def test_it_keeps_a_live_session_live_after_livekit_is_gone(self) -> None:
        item = _live_session(self.course)

        page = self.client.get(self.edit_url(item))
        saved = self.client.post(self.edit_url(item), _session_form_data(delivery="live"))

        live_input = self._input(page, "live")
        assert "disabled" not in live_input
        assert "checked" in live_input
        self.assertContains(page, REASON)
        self.assertContains(page, "join this session's room")
        assert saved.status_code == 302
        item.refresh_from_db()
        assert item.delivery == Delivery.LIVE

    @livekit_off
    def test_it_lets_a_live_session_become_external_without_livekit(self) -> None:
        item = _live_session(self.course)

        response = self.client.post(
            self.edit_url(item),
            _session_form_data(delivery="external", meeting_url="https://zoom.us/j/123456789"),
        )

        assert response.status_code == 302
        item.refresh_from_db()
        assert (item.delivery, item.meeting_url) == (
            Delivery.EXTERNAL,
            "https://zoom.us/j/123456789",
        )

    def _input(self, response: Any, value: str) -> str:
        html = response.content.decode()
        start = html.index(f'value="{value}"')
        return html[html.rindex("<input", 0, start) : html.index(">", start) + 1]


class CourseSettingsTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="paint", title="Paint")
        self.url = reverse("courses:teach_course_edit", args=["paint"])
        self.login(self.alice)

    def post(self, **overrides: object) -> Any:
        return self.client.post(self.url, course_data(title="Paint", slug="paint", **overrides))

    def test_it_shows_the_live_classes_fieldset_with_help(self) -> None:
        response = self.client.get(self.url)

        self.assertContains(response, "Live classes")
        self.assertContains(response, "Students may turn on their camera and microphone")
        self.assertContains(response, "marked late")
        self.assertContains(response, "marked absent")

    def test_it_saves_the_live_class_settings(self) -> None:
        response = self.post(
            students_may_publish="on", late_after_minutes="5", present_min_percent="75"
        )

        assert response.status_code == 302
        self.course.refresh_from_db()
        assert self.course.students_may_publish is True
        assert self.course.late_after_minutes == 5
        assert self.course.present_min_percent == 75

    def test_it_takes_the_defaults_for_empty_fields(self) -> None:
        type(self.course).objects.filter(pk=self.course.pk).update(
            late_after_minutes=30, present_min_percent=90, students_may_publish=True
        )

        response = self.post(late_after_minutes="", present_min_percent="")

        assert response.status_code == 302
        self.course.refresh_from_db()
        assert (self.course.late_after_minutes, self.course.present_min_percent) == (10, 50)
        assert self.course.students_may_publish is False

    def test_it_refuses_a_lateness_out_of_range(self) -> None:
        for value in ("-1", "241"):
            response = self.post(late_after_minutes=value)
            assert response.status_code == 400, value
            assert response.context["form"].errors["late_after_minutes"] == [
                "Enter a number of minutes from 0 to 240."
            ]

    def test_it_refuses_a_share_out_of_range(self) -> None:
        for value in ("-5", "101"):
            response = self.post(present_min_percent=value)
            assert response.status_code == 400, value
            assert response.context["form"].errors["present_min_percent"] == [
                "Enter a percentage from 0 to 100."
            ]

    def test_it_says_what_a_number_should_look_like(self) -> None:
        response = self.post(late_after_minutes="ten", present_min_percent="half")

        errors = response.context["form"].errors
        assert errors["late_after_minutes"] == ["Enter a whole number of minutes."]
        assert errors["present_min_percent"] == ["Enter a whole percentage, like 50."]
        self.course.refresh_from_db()
        assert self.course.late_after_minutes == 10

    def test_it_accepts_the_limits(self) -> None:
        assert self.post(late_after_minutes="240", present_min_percent="0").status_code == 302
        assert self.post(late_after_minutes="0", present_min_percent="100").status_code == 302


class ItemPageTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="paint")
        self.enrollment = EnrollmentFactory.create(course=self.course, student=self.bob)

    def url(self, item: CourseItem) -> str:
        return reverse("courses:item", args=["paint", item.pk])

    @livekit_on
    def test_it_shows_an_open_room_with_the_join_button(self) -> None:
        item = _live_session(self.course, starts_at=timezone.now() + timedelta(minutes=5))
        self.login(self.bob)

        response = self.client.get(self.url(item))

        self.assertContains(response, f'href="{reverse("live:room", args=[item.pk])}"')
        self.assertContains(response, "Join live class")
        self.assertContains(response, "Open now")
        self.assertContains(response, "Live on Lectern")
        self.assertNotContains(response, "Join the meeting")

    @livekit_on
    def test_it_says_when_the_room_opens(self) -> None:
        item = _live_session(self.course)
        self.login(self.bob)

        response = self.client.get(self.url(item))

        self.assertContains(response, "Join live class")
        self.assertContains(response, "opens 15 minutes before the start")
        assert item.starts_at is not None
        assert response.context["room_opens"] == item.starts_at - timedelta(minutes=15)

    @livekit_on
    def test_it_says_a_past_session_has_ended(self) -> None:
        item = _live_session(self.course, starts_at=timezone.now() - timedelta(hours=4))
        self.login(self.bob)

        response = self.client.get(self.url(item))

        self.assertNotContains(response, "Join live class")
        self.assertContains(response, "Ended")

    @livekit_off
    def test_it_tells_the_teacher_live_isnt_set_up(self) -> None:
        item = _live_session(self.course, starts_at=timezone.now() + timedelta(minutes=5))
        self.login(self.alice)

        response = self.client.get(self.url(item))

        self.assertContains(response, "Join live class")
        self.assertContains(response, "join this live class yet")
        self.assertContains(response, REASON)

    @livekit_off
    def test_it_spares_students_the_operators_note(self) -> None:
        item = _live_session(self.course, starts_at=timezone.now() + timedelta(minutes=5))
        self.login(self.bob)

        response = self.client.get(self.url(item))

        self.assertContains(response, "Join live class")
        self.assertNotContains(response, REASON)

    @livekit_on
    def test_it_lists_ready_recordings_for_an_enrolled_student(self) -> None:
        item = _live_session(self.course, starts_at=timezone.now() - timedelta(hours=4))
        first = _recording(item, 1)
        _recording(item, 2, status=Recording.Status.RECORDING, duration_seconds=None)
        _recording(item, 3, status=Recording.Status.FAILED)
        self.login(self.bob)

        response = self.client.get(self.url(item))

        self.assertContains(response, "Recordings")
        self.assertContains(response, f'href="{reverse("live:recording", args=[first.pk])}"')
        self.assertContains(response, "1:02:05")
        self.assertContains(response, "12.0\xa0MB")
        assert [r.url for r in response.context["recordings"]] == [
            reverse("live:recording", args=[first.pk])
        ]

    @livekit_on
    def test_it_lists_recordings_for_the_teacher(self) -> None:
        item = _live_session(self.course, starts_at=timezone.now() - timedelta(hours=4))
        recording = _recording(item, 1)
        self.login(self.alice)

        response = self.client.get(self.url(item))

        self.assertContains(response, f'href="{reverse("live:recording", args=[recording.pk])}"')

    @livekit_on
    def test_it_shows_an_empty_recordings_card_that_says_what_will_come(self) -> None:
        item = _live_session(self.course)
        self.login(self.bob)

        response = self.client.get(self.url(item))

        self.assertContains(response, "Nothing recorded yet")

    def test_it_shows_no_recordings_to_an_outsider_or_a_former_student(self) -> None:
        item = _live_session(self.course, starts_at=timezone.now() - timedelta(hours=4))
        _recording(item, 1)
        item.course = self.course
        self.login(self.dave)

        assert self.client.get(self.url(item)).status_code == 404
        assert live.recordings_for(item, self.dave) == []
        Enrollment.objects.filter(pk=self.enrollment.pk).update(status=Enrollment.Status.LEFT)
        assert live.recordings_for(item, self.bob) == []
        assert len(live.recordings_for(item, self.alice)) == 1

    def test_it_keeps_an_external_session_as_it_was(self) -> None:
        item = CourseItemFactory.create(course=self.course, session=True)
        self.login(self.bob)

        response = self.client.get(self.url(item))

        self.assertContains(response, "Join the meeting")
        self.assertNotContains(response, "Join live class")
        self.assertNotContains(response, "Recordings")

    @livekit_on
    def test_it_reads_recordings_in_a_fixed_number_of_queries(self) -> None:
        item = _live_session(self.course, starts_at=timezone.now() - timedelta(hours=4))
        made = [0]

        def add_recordings(n: int) -> None:
            for _ in range(n):
                made[0] += 1
                _recording(item, made[0])

        self.login(self.bob)
        assert_constant_queries(self, self.url(item), add_recordings, counts=(1, 30), budget=12)


class ListsTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(
            teacher=self.alice, slug="paint", visibility=Visibility.PUBLIC
        )
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.live_item = _live_session(self.course, title="Live washes")
        self.external = CourseItemFactory.create(
            course=self.course, session=True, title="Zoom glazes"
        )

    def test_it_marks_live_sessions_on_the_course_page(self) -> None:
        self.login(self.bob)

        response = self.client.get(reverse("courses:course", args=["paint"]))

        self.assertContains(response, '<span class="badge">Live</span>', count=1, html=True)

    def test_it_marks_live_sessions_on_the_teachers_list(self) -> None:
        self.login(self.alice)

        response = self.client.get(reverse("courses:teach_course", args=["paint"]))

        self.assertContains(response, "Live on Lectern", count=1)

    def test_it_badges_live_and_online_sessions_on_the_storefront(self) -> None:
        response = self.client.get(reverse("storefront:course", args=["paint"]))

        html = response.content.decode()
        live_row = html[html.index("Live washes") :]
        external_row = html[html.index("Zoom glazes") :]
        assert live_row.index(">Live<") < live_row.index("</li>")
        assert external_row.index(">Online<") < external_row.index("</li>")
        self.assertContains(response, ">Online<", count=1)

    def test_it_keeps_the_course_page_query_count_flat_with_live_sessions(self) -> None:
        self.login(self.bob)

        def add_sessions(n: int) -> None:
            for _ in range(n):
                _live_session(self.course)

        def first_visit() -> object:
            # Each measured visit is a first one, so each records the visit the same way.
            Enrollment.objects.filter(student=self.bob).update(last_visited_at=None)
            response = self.client.get(reverse("courses:course", args=["paint"]))
            assert response.status_code == 200
            return response

        assert_constant_queries(self, first_visit, add_sessions, counts=(5, 60), budget=14)


class CalendarTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="paint")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.live_item = _live_session(self.course)
        self.external = CourseItemFactory.create(course=self.course, session=True)

    def locations(self, user: Any) -> dict[int, str]:
        now = timezone.now()
        entries = calendar_services.entries_for(user, start=now, end=now + timedelta(days=30))
        return {entry.source_id: entry.location for entry in entries}

    def test_it_places_a_live_session_in_its_room(self) -> None:
        room = f"{settings.SITE_URL}{reverse('live:room', args=[self.live_item.pk])}"

        for person in (self.bob, self.alice):
            locations = self.locations(person)
            assert locations[self.live_item.pk] == room
            assert locations[self.external.pk] == self.external.meeting_url

    def test_it_puts_the_room_in_the_feed(self) -> None:
        feed = calendar_services.get_or_create_feed(owner=self.bob)

        response = self.client.get(reverse("courses:calendar_feed", args=[feed.token]))

        calendar = Calendar.from_ical(response.content)
        locations = {str(e.get("location")) for e in calendar.walk("VEVENT")}
        assert f"{settings.SITE_URL}/live/{self.live_item.pk}/" in locations
