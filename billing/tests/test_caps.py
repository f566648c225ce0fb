"""Plan-cap states: each move at its exact boundary, one email each, overrides, the periodic job."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import OuterRef
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from billing import tasks
from billing.models import ActiveStudent, Plan, PlanCapState, PlanCapTransition, Subscription
from billing.services import cap_emails, caps, gate, plans
from config.celery import app
from tests.base import LecternTestCase, TeacherFactory, assert_constant_queries

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
GRACE_ENDS = NOW + timedelta(days=7)
State = PlanCapState.State


def make_students(count: int, prefix: str = "s") -> list[User]:
    return User.objects.bulk_create(
        [User(email=f"{prefix}{n}@example.com", is_student=True) for n in range(count)]
    )


def give_active(teacher: User, students: list[User], at: datetime = NOW) -> None:
    """Make exactly `students` the teacher's active students, as paid at `at`."""
    ActiveStudent.objects.filter(teacher=teacher).delete()
    ActiveStudent.objects.bulk_create(
        [ActiveStudent(teacher=teacher, student=s, last_paid_at=at) for s in students]
    )


def subscribe(teacher: User, code: str, status: str = "active") -> Subscription:
    return Subscription.objects.create(
        teacher=teacher,
        plan=Plan.objects.get(code=code),
        stripe_subscription_id=f"sub_{teacher.pk}_{code}_{status}",
        interval="month",
        currency="EUR",
        status=status,
    )


class _Caps(LecternTestCase):
    """alice is on the Free plan (10 active students) with a pool of students to count."""

    pool: list[User]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.pool = make_students(120)

    def have(self, count: int) -> None:
        give_active(self.alice, self.pool[:count])

    def evaluate(self, at: datetime = NOW) -> str | None:
        with time_machine.travel(at, tick=False), self.captureOnCommitCallbacks(execute=True):
            return caps.evaluate(self.alice.pk)

    def evaluate_all(self, at: datetime = NOW) -> dict[str, int]:
        with time_machine.travel(at, tick=False), self.captureOnCommitCallbacks(execute=True):
            return caps.evaluate_all()

    def row(self) -> PlanCapState:
        return PlanCapState.objects.get(teacher=self.alice)

    def moves(self) -> list[tuple[str, str]]:
        return [
            (t.from_state, t.to_state)
            for t in PlanCapTransition.objects.filter(teacher=self.alice).order_by("at", "pk")
        ]

    def emails(self) -> list[Any]:
        return [m for m in mail.outbox if m.to == [self.alice.email]]


def subject(email: Any) -> str:
    return email.subject.removeprefix(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX)


class BoundaryTests(_Caps):
    def test_79_percent_is_normal_and_80_percent_is_warning(self) -> None:
        Plan.objects.filter(is_free=True).update(max_active_students=100)
        self.have(79)
        assert self.evaluate() == State.NORMAL
        assert (self.moves(), self.emails()) == ([], [])
        self.have(80)
        assert self.evaluate() == State.WARNING
        assert self.moves() == [(State.NORMAL, State.WARNING)]
        [email] = self.emails()
        assert subject(email) == "You're close to your plan's limit of active students"
        assert "You have 80 active students; your plan includes 100." in email.body
        assert self.row().warning_emailed_at == NOW

    def test_a_cap_of_10_warns_at_8_stays_warned_at_10_and_is_over_at_11(self) -> None:
        self.have(7)
        assert self.evaluate() == State.NORMAL
        self.have(8)
        assert self.evaluate() == State.WARNING
        self.have(10)
        assert self.evaluate() == State.WARNING
        assert self.moves() == [(State.NORMAL, State.WARNING)]
        self.have(11)
        assert self.evaluate() == State.GRACE
        row = self.row()
        assert (row.active_students, row.cap) == (11, 10)
        assert (row.grace_started_at, row.grace_ends_at) == (NOW, GRACE_ENDS)
        assert self.moves()[-1] == (State.WARNING, State.GRACE)
        grace = self.emails()[-1]
        assert subject(grace) == "You're over your plan's limit: 7 days to upgrade"
        assert "until 9 November 2026, 10:00 (UTC)" in grace.body
        assert gate.refusal(self.alice.pk) == ""  # grace takes new students still

    def test_grace_runs_to_the_second_then_new_paid_enrolments_stop(self) -> None:
        self.have(11)
        self.evaluate()
        assert self.evaluate(GRACE_ENDS - timedelta(seconds=1)) == State.GRACE
        assert gate.refusal(self.alice.pk) == ""
        assert self.evaluate(GRACE_ENDS + timedelta(seconds=1)) == State.HARD_BLOCK
        row = self.row()
        assert row.blocked_at == GRACE_ENDS + timedelta(seconds=1)
        assert self.moves() == [(State.NORMAL, State.GRACE), (State.GRACE, State.HARD_BLOCK)]
        blocked = self.emails()[-1]
        assert subject(blocked) == "New paid enrolments in your courses are paused"
        assert "Students already enrolled always keep full access" in blocked.body
        assert gate.refusal(self.alice.pk) == gate.CAP_BLOCKED_WORDS

    def test_the_periodic_job_ends_grace_at_the_same_second(self) -> None:
        self.have(11)
        self.evaluate()
        self.evaluate_all(GRACE_ENDS - timedelta(seconds=1))
        assert self.row().state == State.GRACE
        self.evaluate_all(GRACE_ENDS + timedelta(seconds=1))
        assert self.row().state == State.HARD_BLOCK

    def test_dropping_to_the_cap_leaves_the_block_and_under_80_percent_is_normal(self) -> None:
        self.have(11)
        self.evaluate()
        self.evaluate(GRACE_ENDS + timedelta(seconds=1))
        self.have(10)  # a refund, or a student's 30 days ran out
        assert self.evaluate(GRACE_ENDS + timedelta(hours=1)) == State.WARNING
        row = self.row()
        assert (row.grace_ends_at, row.blocked_at) == (None, None)
        reopened = self.emails()[-1]
        assert subject(reopened) == "You're back within your plan's limit of active students"
        assert "New paid enrolments in your courses are open again." in reopened.body
        assert gate.refusal(self.alice.pk) == ""
        self.have(7)
        assert self.evaluate(GRACE_ENDS + timedelta(hours=2)) == State.NORMAL
        assert subject(self.emails()[-1]) == "You're back under 80% of your plan's limit"
        assert self.moves()[-2:] == [
            (State.HARD_BLOCK, State.WARNING),
            (State.WARNING, State.NORMAL),
        ]

    def test_grace_straight_back_to_normal(self) -> None:
        self.have(11)
        self.evaluate()
        self.have(3)
        assert self.evaluate(NOW + timedelta(days=1)) == State.NORMAL
        email = self.emails()[-1]
        assert subject(email) == "You're back within your plan's limit of active students"
        assert "your grace period has ended" in email.body

    def test_going_over_again_starts_a_new_grace(self) -> None:
        self.have(11)
        self.evaluate()
        self.have(9)
        self.evaluate(NOW + timedelta(days=3))
        self.have(11)
        self.evaluate(NOW + timedelta(days=4))
        assert self.row().grace_ends_at == NOW + timedelta(days=11)

    def test_a_bigger_plan_ends_the_block_at_once(self) -> None:
        self.have(11)
        self.evaluate()
        self.evaluate(GRACE_ENDS + timedelta(seconds=1))
        subscribe(self.alice, "pro")
        assert self.evaluate(GRACE_ENDS + timedelta(minutes=5)) == State.NORMAL
        assert (self.row().active_students, self.row().cap) == (11, 100)
        assert subject(self.emails()[-1]) == "New paid enrolments are open again"

    def test_a_plan_without_a_limit_is_always_normal(self) -> None:
        Plan.objects.filter(is_free=True).update(max_active_students=None)
        self.have(120)
        assert self.evaluate() == State.NORMAL
        assert self.row().cap is None

    def test_the_grace_period_is_a_setting(self) -> None:
        self.have(11)
        with self.settings(PLAN_CAP_GRACE_DAYS=3):
            self.evaluate()
        assert self.row().grace_ends_at == NOW + timedelta(days=3)


class EmailTests(_Caps):
    def test_each_transition_sends_exactly_one_email_and_repeats_send_none(self) -> None:
        steps = [
            (8, NOW),
            (11, NOW + timedelta(hours=1)),
            (11, GRACE_ENDS + timedelta(hours=1)),
            (7, GRACE_ENDS + timedelta(days=1)),
        ]
        for count, at in steps:
            self.have(count)
            self.evaluate(at)
            self.evaluate(at)  # the same evaluation again changes nothing
            self.evaluate_all(at)
        transitions = PlanCapTransition.objects.filter(teacher=self.alice)
        assert transitions.count() == 4
        subjects = [subject(m) for m in self.emails()]
        assert len(subjects) == 4, subjects
        assert len(set(subjects)) == 4

    def test_the_reminder_goes_out_once_2_days_before_grace_ends(self) -> None:
        self.have(11)
        self.evaluate()
        self.evaluate(GRACE_ENDS - timedelta(days=2, seconds=1))
        assert len(self.emails()) == 1  # the grace email only
        self.evaluate(GRACE_ENDS - timedelta(days=2))
        reminder = self.emails()[-1]
        assert subject(reminder) == "2 days left to upgrade your plan"
        assert "your grace period ends on 9 November 2026, 10:00 (UTC)" in reminder.body
        assert self.row().grace_reminder_sent_at == GRACE_ENDS - timedelta(days=2)
        self.evaluate(GRACE_ENDS - timedelta(days=1))
        self.evaluate_all(GRACE_ENDS - timedelta(hours=1))
        assert len(self.emails()) == 2
        assert self.moves() == [(State.NORMAL, State.GRACE)]  # a reminder is not a move

    def test_the_periodic_job_sends_the_reminder_too(self) -> None:
        self.have(11)
        self.evaluate()
        assert self.evaluate_all(GRACE_ENDS - timedelta(days=2, seconds=1))["reminded"] == 0
        assert self.evaluate_all(GRACE_ENDS - timedelta(days=2))["reminded"] == 1
        assert self.evaluate_all(GRACE_ENDS - timedelta(days=1))["reminded"] == 0
        assert subject(self.emails()[-1]) == "2 days left to upgrade your plan"
        assert len(self.emails()) == 2

    def test_emails_link_to_the_plan_page(self) -> None:
        self.have(8)
        self.evaluate()
        [email] = self.emails()
        assert cap_emails.plan_url() in email.body
        html = email.alternatives[0][0]
        assert cap_emails.plan_url() in html
        assert "See your plan" in html


class OverrideTests(_Caps):
    def test_an_override_holds_while_evaluation_goes_on(self) -> None:
        self.have(11)
        self.evaluate()
        with time_machine.travel(NOW + timedelta(hours=1), tick=False):
            transition = caps.override_state(
                teacher=self.alice, state=State.NORMAL, note="Goodwill.", by=self.staff
            )
        assert (transition.by, transition.note) == (self.staff, "Goodwill.")
        assert (transition.from_state, transition.to_state) == (State.GRACE, State.NORMAL)
        sent = len(self.emails())
        assert self.evaluate(GRACE_ENDS + timedelta(seconds=1)) == State.HARD_BLOCK
        row = self.row()
        assert (row.state, row.effective_state) == (State.HARD_BLOCK, State.NORMAL)
        assert gate.refusal(self.alice.pk) == ""
        moved = PlanCapTransition.objects.filter(teacher=self.alice).first()
        assert moved is not None
        assert moved.to_state == State.HARD_BLOCK
        assert "staff override" in moved.reason
        assert len(self.emails()) == sent  # the teacher lives with the override's state

        at = GRACE_ENDS + timedelta(hours=1)
        with time_machine.travel(at, tick=False), self.captureOnCommitCallbacks(execute=True):
            caps.lift_override(teacher=self.alice, note="Charity status ended.", by=self.staff)
        assert self.row().effective_state == State.HARD_BLOCK
        assert gate.refusal(self.alice.pk) == gate.CAP_BLOCKED_WORDS
        assert subject(self.emails()[-1]) == "New paid enrolments in your courses are paused"

    def test_staff_can_block_a_teacher_under_the_cap(self) -> None:
        self.have(2)
        self.evaluate()
        with time_machine.travel(NOW, tick=False), self.captureOnCommitCallbacks(execute=True):
            caps.override_state(
                teacher=self.alice, state=State.HARD_BLOCK, note="Chargebacks.", by=self.staff
            )
        assert gate.refusal(self.alice.pk) == gate.CAP_BLOCKED_WORDS
        assert self.evaluate(NOW + timedelta(days=1)) == State.NORMAL
        assert gate.refusal(self.alice.pk) == gate.CAP_BLOCKED_WORDS
        email = self.emails()[-1]
        assert "The Lectern team changed your plan-limit status by hand." in email.body

    def test_an_override_needs_a_note_and_a_state(self) -> None:
        for state, note in ((State.NORMAL, "  "), ("closed", "Why not")):
            with pytest.raises(caps.CapOverrideError):
                caps.override_state(teacher=self.alice, state=state, note=note, by=self.staff)
        with pytest.raises(caps.CapOverrideError):
            caps.lift_override(teacher=self.alice, note="Nothing to lift", by=self.staff)
        assert not PlanCapTransition.objects.exists()


class QueryTests(_Caps):
    def test_the_check_at_each_enrolment_is_one_query_whatever_the_ledger_size(self) -> None:
        Plan.objects.filter(is_free=True).update(max_active_students=5000)
        students = make_students(1200, prefix="q")
        given: list[User] = []

        def add_rows(count: int) -> None:
            more = students[len(given) : len(given) + count]
            ActiveStudent.objects.bulk_create(
                [ActiveStudent(teacher=self.alice, student=s, last_paid_at=NOW) for s in more]
            )
            given.extend(more)

        def check() -> None:
            with time_machine.travel(NOW, tick=False):
                caps.evaluate(self.alice.pk)

        assert_constant_queries(self, check, add_rows, counts=(10, 1200), budget=8)
        with CaptureQueriesContext(connection) as ctx:
            check()
        ledger_reads = [q["sql"] for q in ctx.captured_queries if "activestudent" in q["sql"]]
        assert len(ledger_reads) == 1
        assert "plancapstate" in ledger_reads[0]  # the count and the state, together
        assert self.row().active_students == 1200


class PeriodicTests(_Caps):
    def scenario(self) -> list[User]:
        """Teachers in every situation, with their states as an earlier evaluation left them."""
        teachers = TeacherFactory.create_batch(10)
        counts = [0, 5, 8, 10, 11, 11, 11, 3, 50, 11]
        for teacher, count in zip(teachers, counts, strict=True):
            give_active(teacher, self.pool[:count], at=NOW - timedelta(days=1))
        states = {
            4: (State.WARNING, None),
            5: (State.GRACE, NOW - timedelta(seconds=1)),  # grace just ran out
            6: (State.GRACE, NOW + timedelta(days=1)),  # reminder due
            7: (State.HARD_BLOCK, NOW - timedelta(days=3)),  # fell under
            8: (State.GRACE, NOW + timedelta(days=5)),  # now on Pro
        }
        for index, (state, ends) in states.items():
            PlanCapState.objects.create(teacher=teachers[index], state=state, grace_ends_at=ends)
        subscribe(teachers[8], "pro")
        subscribe(teachers[9], "studio", status="canceled")  # back on Free
        return teachers

    def outcome(self, run: Callable[[], Any]) -> tuple[Any, ...]:
        """Run `run` at NOW and return what it left, then undo it."""
        with transaction.atomic(), time_machine.travel(NOW, tick=False):
            run()
            states = sorted(
                PlanCapState.objects.values_list(
                    "teacher", "state", "active_students", "cap", "grace_ends_at", "blocked_at"
                )
            )
            moves = sorted(
                PlanCapTransition.objects.values_list(
                    "teacher", "from_state", "to_state", "reason", "active_students", "cap"
                )
            )
            reminded = sorted(
                PlanCapState.objects.filter(grace_reminder_sent_at__isnull=False).values_list(
                    "teacher", flat=True
                )
            )
            transaction.set_rollback(True)
        return states, moves, reminded

    def test_the_periodic_job_equals_evaluating_each_teacher(self) -> None:
        teachers = self.scenario()
        one_by_one = self.outcome(lambda: [caps.evaluate(t.pk) for t in teachers])
        all_at_once = self.outcome(caps.evaluate_all)
        assert all_at_once == one_by_one
        states = {teacher: state for teacher, state, *_ in all_at_once[0]}
        expected = [
            State.NORMAL,
            State.NORMAL,
            State.WARNING,
            State.WARNING,
            State.GRACE,
            State.HARD_BLOCK,
            State.GRACE,
            State.NORMAL,
            State.NORMAL,
            State.GRACE,
        ]
        assert [states.get(t.pk, State.NORMAL) for t in teachers] == expected
        assert all_at_once[2] == [teachers[6].pk]

    def test_the_job_moves_in_bulk_and_emails_only_the_teachers_who_moved(self) -> None:
        teachers = self.scenario()
        with time_machine.travel(NOW, tick=False), self.captureOnCommitCallbacks(execute=True):
            result = caps.evaluate_all()
        moved = PlanCapTransition.objects.count()
        assert result == {"evaluated": 9, "moved": moved, "reminded": 1}  # 0 students: no row
        assert len(mail.outbox) == moved + 1
        assert {m.to[0] for m in mail.outbox} <= {t.email for t in teachers}
        mail.outbox.clear()
        with time_machine.travel(NOW, tick=False), self.captureOnCommitCallbacks(execute=True):
            again = caps.evaluate_all()
        assert (again["moved"], again["reminded"], len(mail.outbox)) == (0, 0, 0)

    def test_the_cap_in_sql_is_the_plans_cap(self) -> None:
        teachers = TeacherFactory.create_batch(5)
        subscribe(teachers[1], "pro")
        subscribe(teachers[2], "studio", status="past_due")
        subscribe(teachers[3], "pro", status="canceled")
        subscribe(teachers[4], "pro")
        subscribe(teachers[4], "studio", status="trialing")
        sql = dict(
            User.objects.filter(pk__in=[t.pk for t in teachers])
            .annotate(cap=caps.cap_expression(OuterRef("pk")))
            .values_list("pk", "cap")
        )
        assert [plans.plan_of(t).max_active_students for t in teachers] == [10, 100, 1000, 10, 1000]
        assert [sql[t.pk] for t in teachers] == [10, 100, 1000, 10, 1000]

    def test_the_task_runs_the_job_and_beat_schedules_it(self) -> None:
        self.have(8)
        with time_machine.travel(NOW, tick=False), self.captureOnCommitCallbacks(execute=True):
            result = tasks.evaluate_plan_caps_task.delay().get()
        assert result["moved"] == 1
        assert self.row().state == State.WARNING
        scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
        assert "billing.tasks.evaluate_plan_caps_task" in scheduled
