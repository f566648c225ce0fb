"""A course's page for its students: what they may see, what's new, what's due."""

import zoneinfo
from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseItem, Enrollment, Submission
from courses.services.enrolment import VISIT_RECORD_SECONDS
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, assert_constant_queries


class CoursePageAccessTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="guitar")
        self.url = reverse("courses:course", args=["guitar"])

    def test_it_shows_the_page_to_an_enrolled_student(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.login(self.bob)
        self.assertContains(self.client.get(self.url), self.course.title)

    def test_it_is_404_when_not_enrolled(self) -> None:
        self.login(self.dave)
        assert self.client.get(self.url).status_code == 404

    def test_it_is_404_after_leaving(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob, status="left")
        self.login(self.bob)
        assert self.client.get(self.url).status_code == 404

    def test_it_is_404_for_another_student_course(self) -> None:
        other = CourseFactory.create(teacher=self.carol, slug="other")
        EnrollmentFactory.create(course=other, student=self.dave)
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.login(self.bob)
        assert self.client.get(reverse("courses:course", args=["other"])).status_code == 404

    def test_it_is_404_for_another_teacher(self) -> None:
        self.login(self.carol)
        assert self.client.get(self.url).status_code == 404

    def test_it_shows_the_teacher_a_preview(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, "Student preview")

    def test_it_sends_visitors_to_log_in(self) -> None:
        response = self.client.get(self.url)
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]


class CoursePageContentTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="guitar", timezone="UTC")
        self.enrollment = EnrollmentFactory.create(course=self.course, student=self.bob)
        self.url = reverse("courses:course", args=["guitar"])
        self.login(self.bob)

    def test_it_lists_published_items_in_order_and_hides_the_rest(self) -> None:
        CourseItemFactory.create(course=self.course, title="Second", position=2)
        CourseItemFactory.create(course=self.course, title="First", position=1)
        CourseItemFactory.create(course=self.course, title="Unpublished draft", published=False)
        CourseItemFactory.create(course=self.course, note=True, title="Teacher's private note")
        CourseItemFactory.create(
            course=self.course, shared_note=True, title="Shared note", body="Bring a **capo**."
        )
        html = self.client.get(self.url).content.decode()
        assert html.index("First") < html.index("Second")
        assert "Unpublished draft" not in html
        assert "Teacher's private note" not in html
        assert "Shared note" in html
        assert "<strong>capo</strong>" in html

    def test_it_hides_the_private_note_from_the_teacher_preview_too(self) -> None:
        CourseItemFactory.create(course=self.course, note=True, title="Teacher's private note")
        self.login(self.alice)
        self.assertNotContains(self.client.get(self.url), "Teacher's private note")

    def test_it_renders_markdown_safely(self) -> None:
        CourseItemFactory.create(
            course=self.course,
            announcement=True,
            title="Welcome",
            body="Hello <script>alert(1)</script> *class*",
        )
        response = self.client.get(self.url)
        self.assertContains(response, "<em>class</em>")
        self.assertNotContains(response, "<script>alert(1)</script>")

    def test_it_marks_items_published_since_the_previous_visit_as_new(self) -> None:
        earlier = timezone.now() - timedelta(days=3)
        old = CourseItemFactory.create(course=self.course, title="Old news")
        CourseItem.objects.filter(pk=old.pk).update(published_at=earlier - timedelta(days=1))
        Enrollment.objects.filter(pk=self.enrollment.pk).update(
            enrolled_at=earlier - timedelta(days=10), last_visited_at=earlier
        )
        fresh = CourseItemFactory.create(course=self.course, title="Fresh news")

        response = self.client.get(self.url)
        assert [r.item.title for r in response.context["rows"] if r.is_new] == ["Fresh news"]
        self.assertContains(response, "1 new item since your last visit")
        self.enrollment.refresh_from_db()
        assert self.enrollment.last_visited_at > fresh.published_at

        again = self.client.get(self.url)
        assert [r for r in again.context["rows"] if r.is_new] == []

    def test_it_counts_everything_published_since_enrolling_before_the_first_visit(self) -> None:
        Enrollment.objects.filter(pk=self.enrollment.pk).update(
            enrolled_at=timezone.now() - timedelta(days=2)
        )
        CourseItemFactory.create_batch(2, course=self.course)
        self.assertContains(self.client.get(self.url), "2 items published since you enrolled")

    def test_it_lists_assignments_due_within_a_week_not_yet_submitted(self) -> None:
        now = timezone.now()
        soon = CourseItemFactory.create(
            course=self.course, assignment=True, title="Scales", due_at=now + timedelta(days=2)
        )
        handed_in = CourseItemFactory.create(
            course=self.course, assignment=True, title="Chords", due_at=now + timedelta(days=1)
        )
        CourseItemFactory.create(
            course=self.course, assignment=True, title="Later", due_at=now + timedelta(days=9)
        )
        CourseItemFactory.create(
            course=self.course, assignment=True, title="Past", due_at=now - timedelta(days=1)
        )
        Submission.objects.create(item=handed_in, student=self.bob, text="done")
        response = self.client.get(self.url)
        assert [i.title for i in response.context["due_soon"]] == [soon.title]
        self.assertContains(response, "Next due: Scales")

    def test_it_shows_sessions_in_the_viewer_timezone_and_names_the_course_one(self) -> None:
        self.course.timezone = "America/New_York"
        self.course.save(update_fields=["timezone"])
        self.bob.timezone = "Europe/Berlin"
        self.bob.save(update_fields=["timezone"])
        start = timezone.now().replace(microsecond=0) + timedelta(days=2)
        CourseItemFactory.create(course=self.course, session=True, title="Live", starts_at=start)
        response = self.client.get(self.url)
        berlin = timezone.localtime(start, timezone=zoneinfo.ZoneInfo("Europe/Berlin"))
        new_york = timezone.localtime(start, timezone=zoneinfo.ZoneInfo("America/New_York"))
        self.assertContains(response, berlin.strftime("%H:%M"))
        self.assertContains(response, f"{new_york:%H:%M} America/New York")
        self.assertContains(response, "Times in Europe/Berlin")

    def test_it_teaches_what_to_expect_when_empty(self) -> None:
        self.assertContains(self.client.get(self.url), "Nothing published yet")

    def test_it_runs_the_same_queries_for_5_and_500_items(self) -> None:
        kinds = ["material", "announcement", "assignment", "session", "link", "shared_note", "note"]

        def add_items(n: int) -> None:
            for i in range(n):
                CourseItemFactory.create(course=self.course, **{kinds[i % len(kinds)]: True})

        def first_visit() -> object:
            # Each measured visit is a first one, so each records the visit the same way.
            Enrollment.objects.filter(pk=self.enrollment.pk).update(last_visited_at=None)
            response = self.client.get(self.url)
            assert response.status_code == 200
            return response

        assert_constant_queries(self, first_visit, add_items, counts=(5, 500), budget=14)

    def test_it_writes_nothing_when_read_again_with_nothing_new(self) -> None:
        self.client.get(self.url)
        visited = Enrollment.objects.get(pk=self.enrollment.pk).last_visited_at

        with CaptureQueriesContext(connection) as queries:
            self.client.get(self.url)

        assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        assert Enrollment.objects.get(pk=self.enrollment.pk).last_visited_at == visited

    def test_it_records_a_visit_that_showed_new_items_at_once(self) -> None:
        self.client.get(self.url)
        CourseItemFactory.create(course=self.course, title="Fresh news")

        shown = self.client.get(self.url)
        again = self.client.get(self.url)

        assert [r.item.title for r in shown.context["rows"] if r.is_new] == ["Fresh news"]
        assert [r for r in again.context["rows"] if r.is_new] == []

    def test_it_records_a_visit_once_the_last_one_is_a_few_minutes_old(self) -> None:
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.client.get(self.url)
            first = Enrollment.objects.get(pk=self.enrollment.pk).last_visited_at
            assert first is not None

            clock.shift(VISIT_RECORD_SECONDS - 1)
            self.client.get(self.url)
            assert Enrollment.objects.get(pk=self.enrollment.pk).last_visited_at == first

            clock.shift(1)
            self.client.get(self.url)
            assert Enrollment.objects.get(
                pk=self.enrollment.pk
            ).last_visited_at == first + timedelta(seconds=VISIT_RECORD_SECONDS)
