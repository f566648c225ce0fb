"""Contacts follow courses: enrolling, registering, waiting and leaving update the list."""

import io

from django.core.management import call_command
from django.utils import timezone

from analytics.models import Attribution
from courses.models import Enrollment, WaitlistEntry
from courses.services import enrolment, registration
from courses.tests.factories import CourseFactory
from crm import services
from crm.models import Contact
from tests.base import LecternTestCase

Status = Contact.Status


class SyncTests(LecternTestCase):
    def contact_of(self, email: str) -> Contact:
        return Contact.objects.get(teacher=self.alice, email=email)

    def test_it_adds_a_student_who_enrols(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        with self.captureOnCommitCallbacks(execute=True):
            enrolment.enroll_student(course=course, student=self.bob)
        contact = self.contact_of("bob@example.com")
        assert contact.status == Status.STUDENT
        assert contact.user == self.bob
        assert contact.name == "Bob Baker"

    def test_it_makes_a_student_who_leaves_a_past_student(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        with self.captureOnCommitCallbacks(execute=True):
            enrolled = enrolment.enroll_student(course=course, student=self.bob)
        with self.captureOnCommitCallbacks(execute=True):
            enrolment.leave_course(enrollment=enrolled)
        assert self.contact_of("bob@example.com").status == Status.PAST

    def test_it_lists_waitlisted_people(self) -> None:
        course = CourseFactory.create(teacher=self.alice, capacity=1)
        with self.captureOnCommitCallbacks(execute=True):
            Enrollment.objects.create(course=course, student=self.dave)
            enrolment.join_waitlist(course=course, student=self.bob)
        assert self.contact_of("bob@example.com").status == Status.WAITLISTED

    def test_it_lists_guest_registrants(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        with self.captureOnCommitCallbacks(execute=True):
            registration.register_guest(
                course=course, email="Guest@Example.org", first_name="Gia", last_name="Guest"
            )
        contact = self.contact_of("guest@example.org")
        assert contact.status == Status.REGISTRANT
        assert contact.name == "Gia Guest"

    def test_it_keeps_the_strongest_tie(self) -> None:
        full = CourseFactory.create(teacher=self.alice, capacity=1)
        open_course = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=full, student=self.dave)
        WaitlistEntry.objects.create(course=full, student=self.bob)
        Enrollment.objects.create(course=open_course, student=self.bob)
        services.sync_people(self.alice.pk)
        assert self.contact_of("bob@example.com").status == Status.STUDENT

    def test_it_never_lists_a_teacher_in_another_teachers_list(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=course, student=self.bob)
        services.sync_people(self.alice.pk)
        assert not Contact.objects.filter(teacher=self.carol).exists()

    def test_it_backfills_existing_enrolments(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=course, student=self.bob)
        Enrollment.objects.create(
            course=course, student=self.dave, status="left", ended_at=timezone.now()
        )
        out = io.StringIO()
        call_command("crm_backfill", stdout=out)
        call_command("crm_backfill", stdout=out)  # again: no duplicates
        assert "2 contacts created for 1 teachers." in out.getvalue()
        statuses = dict(Contact.objects.filter(teacher=self.alice).values_list("email", "status"))
        assert statuses == {"bob@example.com": Status.STUDENT, "dave@example.com": Status.PAST}

    def test_it_records_the_source_of_the_first_visit(self) -> None:
        Attribution.objects.create(user=self.bob, utm_source="newsletter", utm_medium="email")
        course = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=course, student=self.bob)
        services.sync_people(self.alice.pk)
        assert self.contact_of("bob@example.com").source == "newsletter / email"

    def test_it_fills_in_a_source_recorded_later(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        Enrollment.objects.create(course=course, student=self.bob)
        services.sync_people(self.alice.pk)
        Attribution.objects.create(user=self.bob, referrer_domain="blog.example.net")
        services.sync_people(self.alice.pk, user_ids=[self.bob.pk])
        assert self.contact_of("bob@example.com").source == "blog.example.net"
