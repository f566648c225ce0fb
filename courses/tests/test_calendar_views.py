"""The calendar page: month grid and agenda in the viewer's time zone, with the right events."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from courses.models import CourseItem, Enrollment, ItemKind, PersonalEvent
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, assert_constant_queries

URL = reverse("courses:calendar")


def _titles_by_day(weeks_or_days) -> dict[date, list[str]]:
    days = (
        [d for week in weeks_or_days for d in week]
        if isinstance(weeks_or_days[0], list)
        else weeks_or_days
    )
    return {day.date: [e.title for e in day.entries] for day in days if day.entries}


class MonthViewTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, title="Pottery")
        Enrollment.objects.create(course=self.course, student=self.bob)
        self.session = CourseItemFactory.create(
            course=self.course,
            session=True,
            title="Wheel throwing",
            starts_at=datetime(2026, 11, 10, 17, 0, tzinfo=UTC),
        )
        self.assignment = CourseItemFactory.create(
            course=self.course,
            assignment=True,
            title="Glaze test",
            due_at=datetime(2026, 11, 20, 22, 0, tzinfo=UTC),
        )
        self.draft = CourseItemFactory.create(
            course=self.course,
            session=True,
            title="Kiln day",
            published=False,
            starts_at=datetime(2026, 11, 12, 9, 0, tzinfo=UTC),
        )

    def month(self, user, month: str = "2026-11"):
        self.login(user)
        response = self.client.get(URL, {"month": month})
        assert response.status_code == 200
        return response

    def test_it_shows_an_event_at_2330_utc_on_the_next_day_in_paris(self) -> None:
        self.bob.timezone = "Europe/Paris"
        self.bob.save(update_fields=["timezone"])
        starts = datetime(2026, 11, 4, 23, 30, tzinfo=UTC)
        PersonalEvent.objects.create(
            owner=self.bob,
            title="Late call",
            starts_at=starts,
            ends_at=starts + timedelta(minutes=20),
        )
        response = self.month(self.bob)
        days = _titles_by_day(response.context["weeks"])
        assert "Late call" in days[date(2026, 11, 5)]
        assert "Late call" not in days.get(date(2026, 11, 4), [])
        self.assertContains(response, "00:30")

    def test_it_shows_the_same_event_on_its_utc_day_for_a_utc_viewer(self) -> None:
        starts = datetime(2026, 11, 4, 23, 30, tzinfo=UTC)
        PersonalEvent.objects.create(
            owner=self.bob,
            title="Late call",
            starts_at=starts,
            ends_at=starts + timedelta(minutes=20),
        )
        days = _titles_by_day(self.month(self.bob).context["weeks"])
        assert "Late call" in days[date(2026, 11, 4)]

    def test_it_lays_the_month_out_monday_to_sunday(self) -> None:
        weeks = self.month(self.bob).context["weeks"]
        assert weeks[0][0].date == date(2026, 10, 26)  # the Monday before 1 November
        assert weeks[-1][-1].date == date(2026, 12, 6)
        assert all(len(week) == 7 for week in weeks)
        assert not weeks[0][0].in_month

    def test_it_shows_a_student_published_sessions_and_due_dates_of_their_courses(self) -> None:
        CourseItemFactory.create(
            session=True, title="Not my class", starts_at=datetime(2026, 11, 10, 9, tzinfo=UTC)
        )
        response = self.month(self.bob)
        days = _titles_by_day(response.context["weeks"])
        assert days[date(2026, 11, 10)] == ["Wheel throwing"]
        assert days[date(2026, 11, 20)] == ["Glaze test"]
        self.assertNotContains(response, "Kiln day")
        self.assertNotContains(response, "Not my class")
        self.assertContains(
            response, reverse("courses:item", args=[self.course.slug, self.session.pk])
        )

    def test_it_shows_the_teacher_their_drafts_too(self) -> None:
        response = self.month(self.alice)
        days = _titles_by_day(response.context["weeks"])
        assert days[date(2026, 11, 12)] == ["Kiln day"]
        self.assertContains(
            response, reverse("courses:teach_item_edit", args=[self.course.slug, self.draft.pk])
        )

    def test_it_hides_courses_the_student_left(self) -> None:
        Enrollment.objects.filter(student=self.bob).update(status=Enrollment.Status.REMOVED)
        self.assertNotContains(self.month(self.bob), "Wheel throwing")

    def test_it_never_shows_other_peoples_events(self) -> None:
        starts = datetime(2026, 11, 3, 12, tzinfo=UTC)
        PersonalEvent.objects.create(
            owner=self.carol, title="Carol's secret", starts_at=starts, ends_at=starts
        )
        self.assertNotContains(self.month(self.bob), "Carol's secret")

    def test_it_spreads_a_multi_day_event_over_its_days(self) -> None:
        PersonalEvent.objects.create(
            owner=self.bob,
            title="Retreat",
            starts_at=datetime(2026, 11, 6, 15, tzinfo=UTC),
            ends_at=datetime(2026, 11, 8, 12, tzinfo=UTC),
        )
        days = _titles_by_day(self.month(self.bob).context["weeks"])
        for day in (6, 7, 8):
            assert "Retreat" in days[date(2026, 11, day)]

    def test_it_links_to_the_previous_and_next_months(self) -> None:
        response = self.month(self.bob, "2026-12")
        self.assertContains(response, "?month=2026-11")
        self.assertContains(response, "?month=2027-01")

    def test_it_refuses_a_malformed_month(self) -> None:
        self.login(self.bob)
        for bad in ("2026-13", "November", "0001-01", "2026-1"):
            response = self.client.get(URL, {"month": bad})
            assert response.status_code == 400, bad
            self.assertContains(response, "2026-11", status_code=400)

    def test_it_refuses_an_unknown_view(self) -> None:
        self.login(self.bob)
        assert self.client.get(URL, {"view": "year"}).status_code == 400

    def test_it_makes_as_many_queries_for_a_busy_month(self) -> None:
        self.login(self.bob)

        def add_rows(n: int) -> None:
            starts = datetime(2026, 11, 15, 10, tzinfo=UTC)
            PersonalEvent.objects.bulk_create(
                PersonalEvent(owner=self.bob, title=f"E{i}", starts_at=starts, ends_at=starts)
                for i in range(n)
            )
            CourseItem.objects.bulk_create(
                CourseItem(
                    course=self.course,
                    kind=ItemKind.SESSION if i % 2 else ItemKind.ASSIGNMENT,
                    title=f"I{i}",
                    published=True,
                    starts_at=starts if i % 2 else None,
                    due_at=None if i % 2 else starts,
                    duration_minutes=60,
                )
                for i in range(n)
            )

        assert_constant_queries(self, f"{URL}?month=2026-11", add_rows)


class AgendaViewTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(
            teacher=self.alice, title="Pottery", timezone="Asia/Tokyo"
        )
        Enrollment.objects.create(course=self.course, student=self.bob)
        self.login(self.bob)

    def agenda(self, **params):
        response = self.client.get(URL, {"view": "agenda", **params})
        assert response.status_code == 200
        return response

    def test_it_groups_the_next_60_days_by_day(self) -> None:
        now = timezone.now()
        # 03:00 UTC is noon in Tokyo: the same date in both, whatever the hour the test runs.
        soon = CourseItemFactory.create(
            course=self.course,
            session=True,
            title="Soon",
            starts_at=(now + timedelta(days=2)).replace(hour=3, minute=0, second=0),
        )
        CourseItemFactory.create(
            course=self.course, session=True, title="Too far", starts_at=now + timedelta(days=70)
        )
        CourseItemFactory.create(
            course=self.course, session=True, title="Past", starts_at=now - timedelta(days=3)
        )
        response = self.agenda()
        days = _titles_by_day(response.context["days"])
        # Days are the course's (Asia/Tokyo), whatever the hour in UTC.
        assert days == {timezone.localdate(soon.starts_at, ZoneInfo("Asia/Tokyo")): ["Soon"]}
        self.assertContains(
            response, "Asia/Tokyo, the course\N{RIGHT SINGLE QUOTATION MARK}s time zone"
        )

    def test_it_groups_by_the_viewers_day(self) -> None:
        self.bob.timezone = "Europe/Paris"
        self.bob.save(update_fields=["timezone"])
        tomorrow = timezone.now().date() + timedelta(days=1)
        starts = datetime.combine(tomorrow, datetime.min.time(), tzinfo=UTC).replace(
            hour=23, minute=30
        )
        PersonalEvent.objects.create(
            owner=self.bob, title="Late call", starts_at=starts, ends_at=starts
        )
        days = _titles_by_day(self.agenda().context["days"])
        assert days == {tomorrow + timedelta(days=1): ["Late call"]}

    def test_it_starts_on_the_day_asked_for(self) -> None:
        starts = datetime(2027, 3, 2, 10, tzinfo=UTC)
        PersonalEvent.objects.create(
            owner=self.bob, title="Spring", starts_at=starts, ends_at=starts
        )
        response = self.agenda(start="2027-03-01")
        assert _titles_by_day(response.context["days"]) == {date(2027, 3, 2): ["Spring"]}
        assert self.client.get(URL, {"view": "agenda", "start": "2027-02-30"}).status_code == 400

    def test_it_teaches_what_to_do_when_empty(self) -> None:
        response = self.agenda()
        self.assertContains(response, "Nothing in these 60 days")
        self.assertContains(response, reverse("courses:event_create"))

    def test_it_makes_as_many_queries_for_many_entries(self) -> None:
        def add_rows(n: int) -> None:
            starts = timezone.now() + timedelta(days=3)
            PersonalEvent.objects.bulk_create(
                PersonalEvent(owner=self.bob, title=f"E{i}", starts_at=starts, ends_at=starts)
                for i in range(n)
            )

        assert_constant_queries(self, f"{URL}?view=agenda", add_rows)

    def test_it_links_to_the_calendar_from_the_header(self) -> None:
        response = self.client.get(reverse("dashboard"))
        self.assertContains(response, f'href="{URL}"')


class ContinuedEntryTests(LecternTestCase):
    def test_it_shows_a_session_crossing_midnight_as_continued_on_the_next_day(self) -> None:
        course = CourseFactory.create(teacher=self.alice, visibility="public")
        Enrollment.objects.create(course=course, student=self.bob)
        CourseItem.objects.create(
            course=course,
            kind=ItemKind.SESSION,
            title="Night class",
            published=True,
            starts_at=datetime(2026, 11, 24, 23, 30, tzinfo=UTC),
            duration_minutes=90,
        )
        self.client.force_login(self.bob)
        response = self.client.get(reverse("courses:calendar"), {"month": "2026-11"})
        html = response.content.decode()
        assert html.count("Night class") == 2
        assert "23:30" in html
        assert "…01:00" in html
