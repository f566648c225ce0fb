"""Held seats: for a payment in progress or a visitor's unconfirmed address, and their expiry."""

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.tests.kit import seller
from courses import enrolment_policy
from courses.models import Enrollment, WaitlistEntry
from courses.services import enrolment, holds
from courses.tasks import expire_holds_task
from courses.tests.factories import CourseFactory, EnrollmentFactory
from courses.tests.test_enrolment_guest import invitation_path
from privacy.registry import registry
from tests.base import LecternTestCase, StudentFactory

GUEST_FORM = {"first_name": "Gina", "last_name": "Guest"}


def expiry(hold: Enrollment) -> datetime:
    assert hold.hold_expires_at is not None
    return hold.hold_expires_at


def facts(slug: str) -> enrolment_policy.CourseFacts:
    found = enrolment_policy.read_facts(slug)
    assert found is not None
    return found


def seats_taken(course) -> int:
    facts = enrolment_policy.read_facts(course.slug)
    assert facts is not None
    return facts.seats_taken


class PaymentHoldTests(LecternTestCase):
    """The service API payments will use: hold, confirm, release; holds lapse by themselves."""

    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="ceramics", capacity=1)

    def test_it_holds_a_seat_that_counts_until_it_expires(self) -> None:
        hold = holds.hold_seat(course=self.course, student=self.bob)
        assert (hold.status, hold.hold_reason) == ("held", "payment")
        assert seats_taken(self.course) == 1
        with pytest.raises(enrolment.CourseFullError):
            enrolment.enroll_student(course=self.course, student=self.dave)
        with time_machine.travel(expiry(hold) + timedelta(seconds=1)):
            assert seats_taken(self.course) == 0
            enrolment.enroll_student(course=self.course, student=self.dave)
        assert Enrollment.objects.get(student=self.dave).status == "active"

    def test_it_confirms_a_hold_into_an_enrolment(self) -> None:
        hold = holds.hold_seat(course=self.course, student=self.bob)
        with self.captureOnCommitCallbacks(execute=True):
            holds.confirm_hold(enrollment=hold)
        hold.refresh_from_db()
        assert (hold.status, hold.hold_expires_at) == ("active", None)
        assert seats_taken(self.course) == 1
        # The student is told and the teacher notified, as for any enrolment.
        assert {m.to[0] for m in mail.outbox} >= {self.alice.email}

    def test_it_releases_a_hold_and_gives_the_seat_to_the_waitlist(self) -> None:
        hold = holds.hold_seat(course=self.course, student=self.bob)
        enrolment.join_waitlist(course=self.course, student=self.dave)
        promoted = holds.release_hold(enrollment=hold)
        hold.refresh_from_db()
        assert hold.status == "released"
        assert [e.student for e in promoted] == [self.dave]

    def test_it_takes_payment_holds_on_a_paid_course_students_cannot_enrol_in(self) -> None:
        paid = CourseFactory.create(teacher=self.alice, paid=True)
        with pytest.raises(enrolment.EnrolmentClosedError, match="open for enrolment yet"):
            holds.hold_seat(course=paid, student=self.bob)
        seller(self.alice)  # her Stripe account can take payments now
        with pytest.raises(enrolment.EnrolmentClosedError, match="buy it"):
            enrolment.enroll_student(course=paid, student=self.bob)
        hold = holds.hold_seat(course=paid, student=self.bob)
        assert hold.status == "held"

    def test_it_confirms_a_lapsed_hold_only_while_a_seat_is_free(self) -> None:
        hold = holds.hold_seat(course=self.course, student=self.bob)
        later = expiry(hold) + timedelta(minutes=1)
        with time_machine.travel(later):
            enrolment.enroll_student(course=self.course, student=self.dave)
            with pytest.raises(enrolment.CourseFullError):
                holds.confirm_hold(enrollment=hold)
        assert Enrollment.objects.get(student=self.bob).status == "held"

    def test_it_refuses_moves_the_states_do_not_allow(self) -> None:
        enrollment = EnrollmentFactory.create(course=self.course, student=self.bob, status="left")
        refused = "“Left” can't become “Hold released”"
        with pytest.raises(enrolment.IllegalTransitionError, match=refused):
            holds.release_hold(enrollment=enrollment)
        with pytest.raises(enrolment.IllegalTransitionError):
            holds.confirm_hold(enrollment=enrollment)
        active = EnrollmentFactory.create(course=self.course, student=self.dave)
        with pytest.raises(enrolment.IllegalTransitionError, match="already enrolled"):
            holds.hold_seat(course=self.course, student=self.dave)
        with pytest.raises(enrolment.IllegalTransitionError):
            holds.release_hold(enrollment=active)

    def test_it_shows_the_hold_to_the_student_and_on_the_roster(self) -> None:
        holds.hold_seat(course=self.course, student=self.bob)
        self.login(self.bob)
        page = self.client.get(reverse("storefront:course", args=["ceramics"]))
        assert page.context["answer"].offer == enrolment_policy.Offer.ENROL
        self.login(self.alice)
        roster = self.client.get(reverse("courses:roster", args=["ceramics"]))
        self.assertContains(roster, "Seats held")


class HoldExpiryTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="ceramics", capacity=1)
        self.hold = holds.hold_seat(course=self.course, student=self.bob)
        enrolment.join_waitlist(course=self.course, student=self.dave)

    def test_it_sweeps_expired_holds_and_promotes_the_waitlist(self) -> None:
        assert expire_holds_task.delay().get() == 0
        later = expiry(self.hold) + timedelta(minutes=1)
        with time_machine.travel(later), self.captureOnCommitCallbacks(execute=True):
            assert expire_holds_task.delay().get() == 1
        self.hold.refresh_from_db()
        assert self.hold.status == "released"
        assert Enrollment.objects.get(student=self.dave).status == "active"
        assert not WaitlistEntry.objects.exists()
        assert any(m.to == [self.dave.email] for m in mail.outbox)
        # Sweeping again changes nothing.
        with time_machine.travel(expiry(self.hold) + timedelta(minutes=2)):
            assert holds.expire_holds() == 0

    def test_it_leaves_a_hold_confirmed_in_time_alone(self) -> None:
        holds.confirm_hold(enrollment=self.hold)
        with time_machine.travel(timezone.now() + timedelta(days=1)):
            assert holds.expire_holds() == 0
        assert Enrollment.objects.get(student=self.bob).status == "active"

    def test_the_inline_periodic_jobs_sweep_holds_too(self) -> None:
        state = Path(self.enterContext(tempfile.TemporaryDirectory())) / "state.json"
        with time_machine.travel(expiry(self.hold) + timedelta(minutes=1)):
            call_command("run_periodic", "--once", "--state", str(state), stdout=_Null())
        self.hold.refresh_from_db()
        assert self.hold.status == "released"


class GuestHoldTests(LecternTestCase):
    """A visitor's registration is a hold until they prove their address."""

    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="choir", capacity=2)

    def register(self, email: str):
        with self.captureOnCommitCallbacks(execute=True):
            return self.new_client().post(
                reverse("courses:register", args=["choir"]), {**GUEST_FORM, "email": email}
            )

    def test_made_up_addresses_do_not_turn_a_real_student_away(self) -> None:
        self.register("nobody1@example.org")
        self.register("nobody2@example.org")
        assert enrolment_policy.decide(facts("choir")).full
        self.login(self.bob)
        response = self.client.post(reverse("courses:enroll", args=["choir"]))
        self.assertRedirects(response, reverse("courses:course", args=["choir"]), 302, 200)
        assert Enrollment.objects.get(student=self.bob).status == "active"
        # The newest unconfirmed registration gave its seat up; capacity still holds.
        statuses = dict(
            Enrollment.objects.filter(student__email__startswith="nobody").values_list(
                "student__email", "status"
            )
        )
        assert statuses == {"nobody1@example.org": "held", "nobody2@example.org": "released"}
        assert seats_taken(self.course) == 2

    def test_a_signed_in_student_sees_seats_that_only_guests_hold(self) -> None:
        self.register("nobody1@example.org")
        self.register("nobody2@example.org")
        self.login(self.bob)
        page = self.client.get(reverse("storefront:course", args=["choir"]))
        assert page.context["answer"].offer == enrolment_policy.Offer.ENROL
        visitor = self.new_client().get(reverse("storefront:course", args=["choir"]))
        assert visitor.context["answer"].offer == enrolment_policy.Offer.LOG_IN_TO_WAIT

    def test_another_visitor_is_refused_while_guests_hold_every_seat(self) -> None:
        self.register("nobody1@example.org")
        self.register("nobody2@example.org")
        response = self.register("gina@example.org")
        self.assertContains(response, "This course is full", status_code=400)

    def test_an_unconfirmed_registration_expires(self) -> None:
        self.register("gina@example.org")
        hold = Enrollment.objects.get(student__email="gina@example.org")
        assert hold.status == "held"
        with time_machine.travel(timezone.now() + timedelta(hours=49)):
            assert holds.expire_holds() == 1
            assert seats_taken(self.course) == 0

    def test_the_hold_window_follows_the_setting(self) -> None:
        with self.settings(GUEST_HOLD_HOURS=2):
            self.register("gina@example.org")
        hold = Enrollment.objects.get(student__email="gina@example.org")
        assert expiry(hold) - timezone.now() < timedelta(hours=2, minutes=1)

    def test_confirming_the_address_turns_the_hold_into_an_enrolment(self) -> None:
        self.register("gina@example.org")
        self.confirm(invitation_path(mail.outbox[-1]))
        assert Enrollment.objects.get(student__email="gina@example.org").status == "active"

    def test_a_guest_who_confirms_after_the_seat_went_joins_the_waitlist(self) -> None:
        self.course.capacity = 1
        self.course.save(update_fields=["capacity"])
        self.register("gina@example.org")
        link = invitation_path([m for m in mail.outbox if m.to == ["gina@example.org"]][-1])
        with time_machine.travel(timezone.now() + timedelta(hours=49)):
            holds.expire_holds()
            enrolment.enroll_student(course=self.course, student=self.bob)
            response = self.confirm(link)
        gina = User.objects.get(email="gina@example.org")
        assert Enrollment.objects.get(student=gina).status == "released"
        assert WaitlistEntry.objects.filter(student=gina, course=self.course).exists()
        self.assertRedirects(
            response,
            reverse("storefront:course", args=["choir"]),
            fetch_redirect_response=False,
        )

    def confirm(self, link: str):
        client = self.new_client()
        page = client.get(link, follow=True)
        form_url = page.redirect_chain[-1][0]
        password = "a fresh and long passphrase 42"
        return client.post(form_url, {"password1": password, "password2": password})


class _Null:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


@pytest.mark.django_db
def test_a_removed_guest_cannot_register_their_way_back(client_for) -> None:
    course = CourseFactory.create(slug="choir")
    gina = StudentFactory.create(email="gina@example.org", password=None, verified=False)
    gina.set_unusable_password()
    gina.save(update_fields=["password"])
    EnrollmentFactory.create(course=course, student=gina, status="removed")
    response = client_for().post(
        reverse("courses:register", args=["choir"]), {**GUEST_FORM, "email": gina.email}
    )
    assert response.status_code == 200
    assert Enrollment.objects.get(student=gina).status == "removed"


@pytest.mark.django_db
def test_holds_are_declared_personal_data_and_exported(bob: User) -> None:
    entry = next(e for e in registry if e.model is Enrollment)
    assert {"hold_reason", "hold_expires_at"} <= set(entry.schema)
    course = CourseFactory.create()
    holds.hold_seat(course=course, student=bob)
    [row] = list(entry.exporter(bob))
    assert row["status"] == "held"
    assert row["hold_reason"] == "payment"
    assert row["hold_expires_at"]


class CachedPageTests(LecternTestCase):
    def test_a_visitors_cached_page_frees_the_seat_when_the_hold_lapses(self) -> None:
        course = CourseFactory.create(teacher=self.alice, slug="ceramics", capacity=1)
        hold = holds.hold_seat(course=course, student=self.bob)
        url = reverse("storefront:course", args=["ceramics"])
        self.assertContains(self.new_client().get(url), "Log in to join the waitlist")
        with time_machine.travel(expiry(hold) + timedelta(seconds=1)):
            self.assertContains(self.new_client().get(url), "Register for free")
