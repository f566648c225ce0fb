"""A teacher in HARD_BLOCK: new paid enrolments stop with a clear message, enrolled students stay.

Also the teacher's banners, and the staff screens for cap states and their history.
"""

from datetime import timedelta

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from billing.models import ActiveStudent, PlanCapState, PlanCapTransition, Purchase
from billing.services import cap_emails, caps, gate
from billing.tests.fake_stripe import serve_for
from billing.tests.kit import seller
from billing.tests.test_caps import make_students
from courses.models import Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, TeacherFactory, assert_constant_queries

State = PlanCapState.State
BLOCKED = escape(gate.CAP_BLOCKED_WORDS)


class _Blockable(LecternTestCase):
    """alice sells "kiln" (paid); bob is enrolled in it; she has 11 active students of 10."""

    def setUp(self) -> None:
        self.stripe = serve_for(self)
        seller(self.alice, account_id="acct_test_alice")
        self.stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        self.course = CourseFactory.create(teacher=self.alice, slug="kiln", price_amount=12000)
        self.item = CourseItemFactory.create(course=self.course, title="Loading the kiln")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.now = timezone.now()
        ActiveStudent.objects.bulk_create(
            [
                ActiveStudent(teacher=self.alice, student=s, last_paid_at=self.now)
                for s in make_students(11)
            ]
        )
        cache.clear()

    def enter(self, state: str) -> None:
        """Take alice to `state` through evaluation, as time passes."""
        caps.evaluate(self.alice.pk, self.now)  # over the cap: grace starts
        if state == State.HARD_BLOCK:
            caps.evaluate(self.alice.pk, self.now + timedelta(days=7, seconds=1))
        assert PlanCapState.objects.get(teacher=self.alice).state == state


class HardBlockTests(_Blockable):
    def setUp(self) -> None:
        super().setUp()
        self.enter(State.HARD_BLOCK)

    def test_a_student_sees_why_instead_of_a_buy_button(self) -> None:
        page = self.login(self.dave).get(self.course.get_absolute_url())
        self.assertContains(page, BLOCKED)
        self.assertContains(page, "Not taking new enrolments right now")
        self.assertNotContains(page, "not open for enrolment yet")
        self.assertNotContains(page, reverse("billing:checkout", args=["kiln"]))

    def test_a_visitor_sees_it_on_the_shared_page(self) -> None:
        page = self.client.get(self.course.get_absolute_url())
        self.assertContains(page, BLOCKED)
        self.assertNotContains(page, reverse("billing:checkout", args=["kiln"]))

    def test_checkout_refuses_a_student_with_the_message(self) -> None:
        response = self.login(self.dave).post(reverse("billing:checkout", args=["kiln"]))
        assert response.status_code == 302
        assert response["Location"] == self.course.get_absolute_url()
        said = [str(m) for m in get_messages(response.wsgi_request)]
        assert said == [gate.CAP_BLOCKED_WORDS]
        assert not Purchase.objects.exists()
        assert not [c for c in self.stripe.calls if c["path"] == "/v1/checkout/sessions"]
        assert not Enrollment.objects.filter(student=self.dave).exists()

    def test_checkout_refuses_a_visitor_with_the_message(self) -> None:
        response = self.client.post(
            reverse("billing:checkout", args=["kiln"]),
            {"first_name": "Vera", "last_name": "Visitor", "email": "vera@example.org"},
        )
        self.assertContains(response, BLOCKED, status_code=400)
        assert not Purchase.objects.exists()

    def test_an_enrolled_student_keeps_full_access(self) -> None:
        bob = self.login(self.bob)
        page = bob.get(self.course.get_absolute_url())
        self.assertContains(page, "Go to course")
        self.assertNotContains(page, BLOCKED)
        self.assertContains(bob.get(reverse("courses:course", args=["kiln"])), "Loading the kiln")
        item = bob.get(reverse("courses:item", args=["kiln", self.item.pk]))
        self.assertContains(item, "Loading the kiln")

    def test_free_courses_stay_open(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="open-day", price_amount=0)
        response = self.login(self.dave).post(reverse("courses:enroll", args=["open-day"]))
        assert response.status_code == 302
        assert Enrollment.objects.get(student=self.dave).status == Enrollment.Status.ACTIVE

    def test_the_teacher_sees_why_on_their_dashboard_and_course_page(self) -> None:
        alice = self.login(self.alice)
        dashboard = alice.get(reverse("dashboard"))
        self.assertContains(dashboard, "New paid enrolments in your courses are paused")
        self.assertContains(dashboard, "You have 11 active students; your plan includes 10.")
        self.assertContains(dashboard, f'href="{cap_emails.plan_url()}"')
        self.assertContains(dashboard, "Upgrade your plan")
        page = alice.get(self.course.get_absolute_url())
        self.assertContains(page, "New paid enrolments in your courses are paused")

    def test_back_within_the_limit_the_course_opens_again(self) -> None:
        ActiveStudent.objects.filter(teacher=self.alice).first().delete()  # type: ignore[union-attr]
        caps.evaluate(self.alice.pk, self.now + timedelta(days=8))
        page = self.client.get(self.course.get_absolute_url())
        self.assertNotContains(page, BLOCKED)
        self.assertContains(page, reverse("billing:checkout", args=["kiln"]))


class BannerTests(_Blockable):
    def test_a_visitors_cached_page_changes_as_soon_as_the_block_starts(self) -> None:
        url = self.course.get_absolute_url()
        self.assertNotContains(self.client.get(url), BLOCKED)
        self.enter(State.HARD_BLOCK)
        self.assertContains(self.client.get(url), BLOCKED)

    def test_grace_shows_its_end_date(self) -> None:
        self.enter(State.GRACE)
        dashboard = self.login(self.alice).get(reverse("dashboard"))
        self.assertContains(dashboard, "over your plan")
        ends = PlanCapState.objects.get(teacher=self.alice).grace_ends_at
        assert ends is not None
        self.assertContains(dashboard, escape(cap_emails.teacher_time(ends, self.alice)))
        self.assertNotContains(self.client.get(self.course.get_absolute_url()), BLOCKED)

    def test_warning_shows_a_banner_and_normal_none(self) -> None:
        dashboard = self.login(self.alice)
        self.assertNotContains(dashboard.get(reverse("dashboard")), "plan&#x27;s limit")
        ActiveStudent.objects.filter(pk__in=ActiveStudent.objects.values("pk")[:2]).delete()
        caps.evaluate(self.alice.pk)
        page = dashboard.get(reverse("dashboard"))
        self.assertContains(page, "You&#x27;re close to your plan&#x27;s limit of active students")


class AdminTests(_Blockable):
    def test_staff_find_states_by_teacher_email_and_filter_by_state(self) -> None:
        self.enter(State.GRACE)
        self.login(self.staff)
        changelist = reverse("admin:billing_plancapstate_changelist")
        self.assertContains(self.client.get(changelist, {"q": "alice@"}), "Alice Archer")
        self.assertNotContains(self.client.get(changelist, {"q": "bob@"}), "Alice Archer")
        found = self.client.get(changelist, {"state__exact": "grace"})
        self.assertContains(found, "Alice Archer")
        empty = self.client.get(changelist, {"state__exact": "hard_block"})
        self.assertNotContains(empty, "Alice Archer")

    def test_the_lists_make_the_same_queries_for_few_rows_or_many(self) -> None:
        self.login(self.staff)

        def add_states(count: int) -> None:
            for teacher in TeacherFactory.create_batch(count):
                state = PlanCapState.objects.create(teacher=teacher, state=State.WARNING)
                PlanCapTransition.objects.create(
                    teacher=teacher, from_state="normal", to_state="warning", reason="8 of 10"
                )
                assert state.pk

        for name in ("plancapstate", "plancaptransition"):
            assert_constant_queries(
                self, reverse(f"admin:billing_{name}_changelist"), add_states, counts=(3, 30)
            )

    def test_staff_override_a_state_with_a_note_and_lift_it(self) -> None:
        self.enter(State.HARD_BLOCK)
        row = PlanCapState.objects.get(teacher=self.alice)
        self.login(self.staff)
        change = reverse("admin:billing_plancapstate_change", args=[row.pk])
        refused = self.client.post(change, {"change": "normal", "note": " "})
        self.assertContains(refused, "Write a note saying why")
        assert gate.refusal(self.alice.pk) == gate.CAP_BLOCKED_WORDS
        with self.captureOnCommitCallbacks(execute=True):
            done = self.client.post(change, {"change": "normal", "note": "Upgrade on its way."})
        assert done.status_code == 302
        assert gate.refusal(self.alice.pk) == ""
        made = PlanCapTransition.objects.filter(by__isnull=False).first()
        assert made is not None
        assert (made.by, made.note, made.to_state) == (self.staff, "Upgrade on its way.", "normal")
        history = self.client.get(reverse("admin:billing_plancapstate_change", args=[row.pk]))
        self.assertContains(history, f"teacher__id__exact={self.alice.pk}")
        audit = self.client.get(
            reverse("admin:billing_plancaptransition_changelist"),
            {"teacher__id__exact": self.alice.pk},
        )
        self.assertContains(audit, "A staff member set the state")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(change, {"change": "lift", "note": "Never upgraded."})
        assert gate.refusal(self.alice.pk) == gate.CAP_BLOCKED_WORDS

    def test_the_history_is_read_only(self) -> None:
        self.enter(State.GRACE)
        transition = PlanCapTransition.objects.get()
        self.login(self.staff)
        assert self.client.get(reverse("admin:billing_plancaptransition_add")).status_code == 403
        url = reverse("admin:billing_plancaptransition_change", args=[transition.pk])
        self.assertNotContains(self.client.get(url), 'type="submit" value="Save"')
        self.client.post(url, {"reason": "Changed", "to_state": "normal"})
        transition.refresh_from_db()
        assert transition.to_state == "grace"
        assert self.client.get(reverse("admin:billing_plancapstate_add")).status_code == 403
