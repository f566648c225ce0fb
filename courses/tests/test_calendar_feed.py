"""The private ICS feed: valid iCalendar, stable UIDs, only the owner's events, revocable."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from courses.models import CalendarFeed, CourseItem, Enrollment, PersonalEvent
from courses.services import calendar as calendar_services
from courses.services import items as item_services
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, assert_constant_queries, fresh_rate_window

HOST = urlsplit(settings.SITE_URL).hostname


def _hour_from_now(days: int, hour: int = 18) -> datetime:
    return (timezone.now() + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


class FeedTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, title="Watercolour basics")
        Enrollment.objects.create(course=self.course, student=self.bob)
        self.session = CourseItemFactory.create(
            course=self.course,
            session=True,
            title="Week 1: washes",
            starts_at=_hour_from_now(3),
            duration_minutes=90,
        )
        self.assignment = CourseItemFactory.create(
            course=self.course, assignment=True, title="First painting", due_at=_hour_from_now(5)
        )
        self.draft_session = CourseItemFactory.create(
            course=self.course, session=True, title="Secret rehearsal", published=False
        )
        self.event = PersonalEvent.objects.create(
            owner=self.bob,
            title="Buy brushes",
            starts_at=_hour_from_now(1, 9),
            ends_at=_hour_from_now(1, 10),
        )
        self.carols_event = PersonalEvent.objects.create(
            owner=self.carol,
            title="Carol's private plan",
            starts_at=_hour_from_now(1, 9),
            ends_at=_hour_from_now(1, 10),
        )
        self.anonymous = Client()

    def feed_url(self, user=None) -> str:
        feed = calendar_services.get_or_create_feed(owner=user or self.bob)
        return reverse("courses:calendar_feed", args=[feed.token])

    def fetch(self, user=None) -> Calendar:
        response = self.anonymous.get(self.feed_url(user))
        assert response.status_code == 200
        return Calendar.from_ical(response.content)

    def events_by_uid(self, calendar: Calendar) -> dict:
        return {str(event["UID"]): event for event in calendar.walk("VEVENT")}

    def test_it_serves_a_valid_calendar_without_logging_in(self) -> None:
        response = self.anonymous.get(self.feed_url())
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert response["Cache-Control"] == "private, max-age=300"
        assert b"\r\n" in response.content  # RFC 5545 lines end in CRLF
        calendar = Calendar.from_ical(response.content)
        assert str(calendar["VERSION"]) == "2.0"
        assert str(calendar["PRODID"]) == "-//Lectern//Lectern calendar//EN"
        assert str(calendar["CALSCALE"]) == "GREGORIAN"
        assert "Bob Baker" in str(calendar["X-WR-CALNAME"])

    def test_it_lists_sessions_due_dates_and_personal_events_with_stable_uids(self) -> None:
        events = self.events_by_uid(self.fetch())
        assert set(events) == {
            f"session-{self.session.pk}@{HOST}",
            f"due-{self.assignment.pk}@{HOST}",
            f"event-{self.event.pk}@{HOST}",
        }
        session = events[f"session-{self.session.pk}@{HOST}"]
        assert str(session["SUMMARY"]) == "Week 1: washes — Watercolour basics"
        assert "https://meet.google.com/abc-defg-hij" in str(session["DESCRIPTION"])
        item_path = reverse("courses:item", args=[self.course.slug, self.session.pk])
        assert str(session["URL"]) == f"http://testserver{item_path}"
        due = events[f"due-{self.assignment.pk}@{HOST}"]
        assert str(due["SUMMARY"]) == "Due: First painting — Watercolour basics"
        assert "DTEND" not in due
        for event in events.values():
            for prop in ("DTSTAMP", "DTSTART", "SUMMARY", "URL", "DESCRIPTION", "LAST-MODIFIED"):
                assert prop in event
            assert "SEQUENCE" in event

    def test_it_writes_every_time_in_utc(self) -> None:
        response = self.anonymous.get(self.feed_url())
        text = response.content.decode()
        events = self.events_by_uid(Calendar.from_ical(response.content))
        session = events[f"session-{self.session.pk}@{HOST}"]
        assert session.decoded("DTSTART") == self.session.starts_at
        assert session.decoded("DTSTART").utcoffset() == timedelta(0)
        assert session.decoded("DTEND") == self.session.starts_at + timedelta(minutes=90)
        assert f"DTSTART:{self.session.starts_at.astimezone(UTC):%Y%m%dT%H%M%S}Z" in text
        assert "TZID" not in text
        for line in text.splitlines():
            if line.startswith(("DTSTART", "DTEND", "DTSTAMP", "LAST-MODIFIED", "CREATED")):
                assert line.endswith("Z"), line

    def test_it_keeps_the_uid_when_an_item_changes(self) -> None:
        an_hour_ago = timezone.now() - timedelta(hours=1)
        CourseItem.objects.filter(pk=self.session.pk).update(
            created_at=an_hour_ago, updated_at=an_hour_ago
        )
        uid = f"session-{self.session.pk}@{HOST}"
        before = self.events_by_uid(self.fetch())[uid]

        self.session.refresh_from_db()
        item_services.update_item(item=self.session, fields={"title": "Week 1: wet on wet"})
        after = self.events_by_uid(self.fetch())[uid]

        assert str(after["SUMMARY"]) == "Week 1: wet on wet — Watercolour basics"
        assert after["SEQUENCE"] > before["SEQUENCE"]
        assert after.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")

    def test_it_keeps_the_uid_when_a_personal_event_changes(self) -> None:
        uid = f"event-{self.event.pk}@{HOST}"
        PersonalEvent.objects.filter(pk=self.event.pk).update(
            created_at=timezone.now() - timedelta(minutes=5)
        )
        self.event.refresh_from_db()
        calendar_services.update_event(event=self.event, fields={"title": "Buy paper"})
        event = self.events_by_uid(self.fetch())[uid]
        assert str(event["SUMMARY"]) == "Buy paper"
        assert event["SEQUENCE"] > 0

    def test_it_leaves_out_other_peoples_events(self) -> None:
        CourseItemFactory.create(session=True, title="Someone else's class")
        body = self.anonymous.get(self.feed_url()).content.decode()
        assert "Carol's private plan" not in body
        assert "Someone else's class" not in body
        assert f"event-{self.carols_event.pk}@" not in body

    def test_it_leaves_out_unpublished_sessions_for_students(self) -> None:
        events = self.events_by_uid(self.fetch())
        assert f"session-{self.draft_session.pk}@{HOST}" not in events

    def test_it_shows_the_teacher_their_own_drafts_as_tentative(self) -> None:
        events = self.events_by_uid(self.fetch(self.alice))
        draft = events[f"session-{self.draft_session.pk}@{HOST}"]
        assert str(draft["STATUS"]) == "TENTATIVE"
        assert str(draft["SUMMARY"]).startswith("[Draft]")
        assert str(events[f"session-{self.session.pk}@{HOST}"]["STATUS"]) == "CONFIRMED"
        assert f"event-{self.event.pk}@{HOST}" not in events

    def test_it_leaves_out_courses_the_student_left(self) -> None:
        Enrollment.objects.filter(student=self.bob).update(status=Enrollment.Status.LEFT)
        events = self.events_by_uid(self.fetch())
        assert set(events) == {f"event-{self.event.pk}@{HOST}"}

    def test_it_covers_the_past_30_days_and_the_next_12_months(self) -> None:
        for days, title in ((-20, "Recent"), (-40, "Too old"), (300, "Next year"), (400, "Later")):
            starts = _hour_from_now(days)
            PersonalEvent.objects.create(
                owner=self.bob, title=title, starts_at=starts, ends_at=starts + timedelta(hours=1)
            )
        summaries = {str(e["SUMMARY"]) for e in self.fetch().walk("VEVENT")}
        assert {"Recent", "Next year"} <= summaries
        assert not {"Too old", "Later"} & summaries

    def test_it_answers_404_for_an_unknown_token(self) -> None:
        url = reverse("courses:calendar_feed", args=["not-a-real-token"])
        assert self.anonymous.get(url).status_code == 404

    def test_it_answers_404_for_a_deactivated_account(self) -> None:
        url = self.feed_url()
        type(self.bob).objects.filter(pk=self.bob.pk).update(is_active=False)
        assert self.anonymous.get(url).status_code == 404

    def test_regenerating_revokes_the_old_address(self) -> None:
        old_url = self.feed_url()
        self.login(self.bob)
        response = self.client.post(reverse("courses:calendar_feed_regenerate"))
        self.assertRedirects(response, reverse("courses:calendar_feed_settings"))
        new_url = self.feed_url()
        assert new_url != old_url
        assert self.anonymous.get(old_url).status_code == 404
        assert self.anonymous.get(new_url).status_code == 200

    def test_it_answers_304_when_nothing_changed(self) -> None:
        url = self.feed_url()
        etag = self.anonymous.get(url)["ETag"]
        assert self.anonymous.get(url, headers={"if-none-match": etag}).status_code == 304

    def test_it_limits_fetches_per_address(self) -> None:
        url = self.feed_url()
        with fresh_rate_window(600):
            statuses = [self.anonymous.get(url).status_code for _ in range(61)]
            assert statuses[:60] == [200] * 60
            assert statuses[60] == 429
            assert self.anonymous.get(url).has_header("Retry-After")

    def test_it_makes_as_many_queries_for_many_events(self) -> None:
        url = self.feed_url()

        def add_rows(n: int) -> None:
            starts = _hour_from_now(2)
            PersonalEvent.objects.bulk_create(
                PersonalEvent(owner=self.bob, title=f"E{i}", starts_at=starts, ends_at=starts)
                for i in range(n)
            )
            CourseItem.objects.bulk_create(
                CourseItem(
                    course=self.course,
                    kind="session",
                    title=f"S{i}",
                    published=True,
                    starts_at=starts,
                    duration_minutes=60,
                )
                for i in range(n)
            )

        assert_constant_queries(self.anonymous, url, add_rows, budget=6)


class FeedSettingsTests(LecternTestCase):
    def test_it_creates_the_address_on_first_visit(self) -> None:
        assert not CalendarFeed.objects.filter(owner=self.bob).exists()
        self.login(self.bob)
        response = self.client.get(reverse("courses:calendar_feed_settings"))
        assert response.status_code == 200
        feed = CalendarFeed.objects.get(owner=self.bob)
        self.assertContains(response, f"http://testserver/calendar/feed/{feed.token}.ics")
        self.assertContains(response, f"webcal://testserver/calendar/feed/{feed.token}.ics")
        for app in ("Google Calendar", "Apple Calendar", "Outlook"):
            self.assertContains(response, app)
        assert "no-cache" in response["Cache-Control"]

    def test_it_keeps_the_same_address_on_later_visits(self) -> None:
        self.login(self.bob)
        self.client.get(reverse("courses:calendar_feed_settings"))
        token = CalendarFeed.objects.get(owner=self.bob).token
        self.client.get(reverse("courses:calendar_feed_settings"))
        assert CalendarFeed.objects.get(owner=self.bob).token == token

    def test_it_refuses_to_regenerate_on_get(self) -> None:
        self.login(self.bob)
        assert self.client.get(reverse("courses:calendar_feed_regenerate")).status_code == 405
