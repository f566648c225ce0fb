"""Settings → Notifications: the email choice, quiet hours, digest time and muted courses."""

import datetime as dt

from django.urls import reverse

from courses.models import Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from notifications.models import (
    CourseMute,
    EmailMode,
    EmailState,
    Kind,
    Notification,
    preference_for,
)
from tests.base import LecternTestCase

URL = reverse("notifications:preferences")


class PreferencesTests(LecternTestCase):
    def setUp(self) -> None:
        self.login(self.bob)

    def test_it_shows_the_defaults_in_the_settings_nav(self) -> None:
        response = self.client.get(URL)
        self.assertContains(response, "<h1>Notifications</h1>", html=True)
        assert response.context["form"]["email_mode"].value() == "immediate"
        self.assertContains(
            response, 'href="/settings/notifications/"\n           aria-current="page"'
        )

    def test_it_saves_the_choice_and_quiet_hours(self) -> None:
        response = self.client.post(
            URL,
            {
                "email_mode": "digest",
                "quiet_hours_start": "22:00",
                "quiet_hours_end": "07:30",
                "digest_hour": "18",
            },
            follow=True,
        )
        self.assertContains(response, "Your notification settings are saved.")
        pref = preference_for(self.bob)
        assert pref.pk is not None
        assert pref.email_mode == EmailMode.DIGEST
        assert (pref.quiet_hours_start, pref.quiet_hours_end) == (dt.time(22), dt.time(7, 30))
        assert pref.digest_hour == 18

    def test_it_refuses_half_quiet_hours_and_keeps_the_input(self) -> None:
        response = self.client.post(
            URL, {"email_mode": "off", "quiet_hours_start": "22:00", "digest_hour": "8"}
        )
        assert response.status_code == 400
        self.assertContains(response, "Give both ends of your quiet hours", status_code=400)
        assert response.context["form"]["email_mode"].value() == "off"
        self.assertContains(response, 'value="22:00"', status_code=400)
        assert preference_for(self.bob).pk is None

    def test_it_refuses_an_unknown_choice(self) -> None:
        response = self.client.post(URL, {"email_mode": "hourly", "digest_hour": "8"})
        assert response.status_code == 400

    def test_it_moves_waiting_emails_to_the_new_choice(self) -> None:
        waiting = Notification.objects.create(
            recipient=self.bob,
            kind=Kind.MESSAGE,
            title="Hi",
            dedupe_key="w",
            email_state=EmailState.DIGEST,
        )
        self.client.post(URL, {"email_mode": "off", "digest_hour": "8"})
        waiting.refresh_from_db()
        assert waiting.email_state == EmailState.NONE


class MuteTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, title="Choir")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.url = reverse("notifications:mute_course", args=[self.course.pk])

    def test_it_lists_the_persons_courses_with_a_mute_button(self) -> None:
        CourseFactory.create(teacher=self.carol, title="Not bob's")
        self.login(self.bob)
        response = self.client.get(URL)
        self.assertContains(response, "Choir")
        self.assertNotContains(response, "Not bob&#x27;s")
        self.assertContains(response, f'action="{self.url}"')

    def test_it_mutes_and_unmutes(self) -> None:
        self.login(self.bob)
        response = self.client.post(self.url, {"muted": "1"}, follow=True)
        self.assertContains(response, "Choir is muted.")
        self.assertContains(response, "Unmute")
        assert CourseMute.objects.filter(user=self.bob, course=self.course).exists()
        self.client.post(self.url, {"muted": "0"})
        assert not CourseMute.objects.exists()

    def test_it_lets_the_teacher_mute_their_own_course(self) -> None:
        self.login(self.alice)
        self.client.post(self.url, {"muted": "1"})
        assert CourseMute.objects.filter(user=self.alice, course=self.course).exists()

    def test_it_answers_404_for_a_course_the_person_is_not_in(self) -> None:
        Enrollment.objects.filter(student=self.bob).update(status=Enrollment.Status.LEFT)
        self.login(self.bob)
        assert self.client.post(self.url, {"muted": "1"}).status_code == 404
        self.login(self.dave)
        assert self.client.post(self.url, {"muted": "1"}).status_code == 404
        assert not CourseMute.objects.exists()

    def test_it_lists_many_courses_in_constant_queries(self) -> None:
        from tests.base import assert_constant_queries

        self.login(self.bob)

        def enrol(n: int) -> None:
            from courses.models import Course

            courses = Course.objects.bulk_create(CourseFactory.build_batch(n, teacher=self.alice))
            Enrollment.objects.bulk_create(Enrollment(course=c, student=self.bob) for c in courses)
            CourseMute.objects.bulk_create(
                CourseMute(user=self.bob, course=c) for c in courses[::2]
            )

        assert_constant_queries(self, URL, enrol, budget=12)
