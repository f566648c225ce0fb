"""The active-student ledger and each teacher's plan-cap state.

The ledger
----------
One row per (teacher, student) pair with a paid enrolment in the last 30
days: `last_paid_at` is the latest `paid_at` of the pair's purchases that
still count (paid or partially refunded, paid within the window). After a
payment or a refund `purchase_changed` recomputes the pair's row from the
pair's purchases, never from the change itself, so an event delivered twice
or out of order ends in the same row; a full refund of the pair's only
purchase removes it. Rows older than the window stop counting at once (every
count filters on `last_paid_at`) and the retention sweep deletes them.

The states, at their exact boundaries
-------------------------------------
With `n` active students and the plan's cap `c` (empty: no limit, always
NORMAL); for a cap of 10 the figures in brackets:

    NORMAL      n below 80% of c (n * 5 < c * 4), or n = 0          [0 to 7]
    WARNING     80% of c up to and including c                      [8, 9, 10]
    GRACE       over the cap, n > c: PLAN_CAP_GRACE_DAYS from the
                first evaluation that found it over                 [11 and more]
    HARD_BLOCK  still over the cap once grace has run out (at its end
                to the second); new paid enrolments stop (`gate`)

As soon as n is back to c or below (refunds, students' 30 days running out,
a bigger plan), GRACE and HARD_BLOCK end: the state becomes NORMAL, or
WARNING while n is still 80% of c or more (a teacher at exactly their cap is
warned, not blocked). Going over again later starts a new grace. A reminder
goes out once, 2 days before grace ends.

`next_state` says this in Python for one teacher, `next_state_expression` in
SQL for all of them; the tests hold the two to the same answers.

Every move writes a `PlanCapTransition` with its reason and figures, and
queues exactly one email to the teacher (through the outbox, keyed by the
transition). A staff override holds over the evaluated state: evaluation
goes on and records its moves, but the teacher is emailed about the
override's state, not those moves (the effective state is what they live
with). Setting and lifting an override are transitions too, by a named staff
member with a note.

Where it runs, and races
------------------------
`evaluate` runs after every ledger change, inside the purchase's
transaction: one query reads the count and the state row. `evaluate_all`,
the periodic job, does the same for every teacher in a few set-based
statements and is also what moves a teacher whose students' 30 days simply
ran out, whose grace ended, or whose plan changed. A move is claimed with a
conditional update (the state still the one read), so two evaluations
racing record it once; figures a concurrent purchase could not yet see are
caught by the next evaluation.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from billing.models import (
    ActiveStudent,
    Plan,
    PlanCapState,
    PlanCapTransition,
    Purchase,
    Subscription,
)
from billing.services import cap_emails, plans

State = PlanCapState.State

# A paid enrolment makes its student active for this long.
ACTIVE_WINDOW = timedelta(days=plans.ACTIVE_DAYS)
# The grace reminder goes out this long before grace ends.
REMINDER_BEFORE = timedelta(days=2)
# Purchases that keep their student active (a refunded, failed or disputed one doesn't).
COUNTING = (Purchase.Status.PAID, Purchase.Status.PARTIALLY_REFUNDED)
OVER = (State.GRACE, State.HARD_BLOCK)
_BATCH = 500


class CapOverrideError(Exception):
    """A staff override that can't be made; `message` says why, for the staff member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def grace_period() -> timedelta:
    return timedelta(days=settings.PLAN_CAP_GRACE_DAYS)


# --- The ledger ------------------------------------------------------------------------------


@transaction.atomic
def purchase_changed(purchase: Purchase) -> None:
    """Bring the purchase's (teacher, student) ledger row up to date, then the teacher's state.

    Called with the purchase locked and its new state saved. A purchase
    anonymised for the tax record (no student or teacher) counts for nobody.
    """
    if purchase.teacher_id is None or purchase.student_id is None:
        return
    now = timezone.now()
    pair = {"teacher_id": purchase.teacher_id, "student_id": purchase.student_id}
    latest = Purchase.objects.filter(
        **pair, status__in=COUNTING, paid_at__gte=now - ACTIVE_WINDOW
    ).aggregate(latest=Max("paid_at"))["latest"]
    if latest is None:
        ActiveStudent.objects.filter(**pair).delete()
    else:
        ActiveStudent.objects.bulk_create(
            [ActiveStudent(**pair, last_paid_at=latest)],
            update_conflicts=True,
            unique_fields=["teacher", "student"],
            update_fields=["last_paid_at"],
        )
    evaluate(purchase.teacher_id, now)


def active_count(teacher: Any, now: datetime) -> Coalesce:
    """Count the teacher's active students at `now`, as a subquery on the ledger's index."""
    rows = ActiveStudent.objects.filter(teacher_id=teacher, last_paid_at__gte=now - ACTIVE_WINDOW)
    counted = rows.order_by().values("teacher_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- The cap ---------------------------------------------------------------------------------


def cap_expression(teacher: Any = None) -> Case:
    """Each row's teacher's active-student cap in SQL, as `plans.plan_of` gives it; NULL: no limit.

    Their live subscription's plan's cap, else the Free plan's. `teacher` is
    the column (an `OuterRef`) holding the teacher's id. Of two live
    subscriptions the more generous plan counts, as in `plans.live_subscription`.
    """
    teacher = teacher if teacher is not None else OuterRef("teacher_id")
    live = Subscription.objects.filter(teacher_id=teacher, status__in=Subscription.LIVE)
    free = Plan.objects.filter(is_free=True).values("max_active_students")[:1]
    generous = live.order_by("-plan__position", "-created_at")
    return Case(
        When(
            Exists(live),
            then=Subquery(generous.values("plan__max_active_students")[:1]),
        ),
        default=Subquery(free),
        output_field=IntegerField(),
    )


# --- The rules -------------------------------------------------------------------------------


def next_state(
    *, state: str, active: int, cap: int | None, grace_ends_at: datetime | None, now: datetime
) -> str:
    """Return the state a teacher in `state` moves to with `active` students against `cap`."""
    if cap is None or active <= cap:
        near = cap is not None and active > 0 and active * 5 >= cap * 4
        return State.WARNING if near else State.NORMAL
    if state == State.HARD_BLOCK:
        return State.HARD_BLOCK
    if state == State.GRACE:
        ran_out = grace_ends_at is not None and now >= grace_ends_at
        return State.HARD_BLOCK if ran_out else State.GRACE
    return State.GRACE


def next_state_expression(now: datetime) -> Case:
    """`next_state` for every `PlanCapState` row, from its stored figures, in SQL."""
    over = Q(cap__isnull=False, active_students__gt=F("cap"))
    near = Q(
        GreaterThanOrEqual(F("active_students") * 5, F("cap") * 4),
        cap__isnull=False,
        active_students__gt=0,
    )
    return Case(
        When(over & Q(state=State.HARD_BLOCK), then=Value(State.HARD_BLOCK)),
        When(over & Q(state=State.GRACE, grace_ends_at__lte=now), then=Value(State.HARD_BLOCK)),
        When(over, then=Value(State.GRACE)),
        When(near, then=Value(State.WARNING)),
        default=Value(State.NORMAL),
        output_field=CharField(),
    )


def _entering(target: str, now: datetime) -> dict[str, Any]:
    """The timestamps a row entering `target` at `now` gets (usable in any `update`)."""
    if target == State.GRACE:
        return {
            "grace_started_at": now,
            "grace_ends_at": now + grace_period(),
            "grace_reminder_sent_at": None,
            "blocked_at": None,
        }
    if target == State.HARD_BLOCK:
        return {"blocked_at": now}
    cleared: dict[str, Any] = {
        "grace_started_at": None,
        "grace_ends_at": None,
        "grace_reminder_sent_at": None,
        "blocked_at": None,
    }
    if target == State.WARNING:
        # The warning email goes out unless an override holds (see the module docstring).
        cleared["warning_emailed_at"] = Case(
            When(override_state="", then=Value(now)), default=F("warning_emailed_at")
        )
    return cleared


@dataclass(frozen=True)
class Move:
    """One teacher's evaluated state changing, as found by `evaluate` or `evaluate_all`."""

    teacher_id: int
    from_state: str
    to_state: str
    active: int
    cap: int | None
    override_state: str  # the staff override holding at the time, "" when none


# --- Evaluating ------------------------------------------------------------------------------


@transaction.atomic
def evaluate(teacher_id: int, now: datetime | None = None) -> str | None:
    """Evaluate one teacher's cap state now and return the evaluated state.

    The count, the plan's cap and the state row come from one query on indexes
    (the ledger's `(teacher, last_paid_at)`, the live subscriptions' teacher,
    the state's teacher); writes follow only for what changed. Return None
    when there is no such teacher, or when another evaluation moved the state
    first (it recorded the move).
    """
    now = now or timezone.now()
    row = (
        get_user_model()
        .objects.filter(pk=teacher_id)
        .values(
            active=active_count(OuterRef("pk"), now),
            cap=cap_expression(OuterRef("pk")),
            cap_state=F("plan_cap__state"),
            cap_override=F("plan_cap__override_state"),
            cap_grace_ends_at=F("plan_cap__grace_ends_at"),
            cap_reminded_at=F("plan_cap__grace_reminder_sent_at"),
        )
        .first()
    )
    if row is None:
        return None
    active, cap, state = row["active"], row["cap"], row["cap_state"]
    if state is None:  # never evaluated with a student: nothing to record while there is none
        if active == 0:
            return State.NORMAL
        PlanCapState.objects.bulk_create(
            [PlanCapState(teacher_id=teacher_id, entered_at=now)], ignore_conflicts=True
        )
        state, row["cap_override"] = State.NORMAL, ""
    target = next_state(
        state=state, active=active, cap=cap, grace_ends_at=row["cap_grace_ends_at"], now=now
    )
    figures = {"active_students": active, "cap": cap, "evaluated_at": now}
    mine = PlanCapState.objects.filter(teacher_id=teacher_id)
    if target == state:
        mine.update(**figures)
        ends = row["cap_grace_ends_at"]
        reminder_due = ends is not None and ends - REMINDER_BEFORE <= now < ends
        if state == State.GRACE and row["cap_reminded_at"] is None and reminder_due:
            _send_reminders(mine, now)
        return state
    if not mine.filter(state=state).update(
        state=target, entered_at=now, **figures, **_entering(target, now)
    ):
        return None
    _record([Move(teacher_id, state, target, active, cap, row["cap_override"] or "")], now)
    return target


def evaluate_all(now: datetime | None = None) -> dict[str, int]:
    """Evaluate every teacher's cap state in a few set-based statements (the periodic job).

    1. Teachers with active students but no state row get one.
    2. One UPDATE stores every row's count and cap (correlated subqueries on
       the ledger's and subscriptions' indexes).
    3. One SELECT finds the rows whose `next_state_expression` differs from
       their state. They move in batches, each its own short transaction:
       the batch is read again under lock (a row a concurrent evaluation moved
       meanwhile drops out), moved with one UPDATE per target state, its
       transitions inserted in one statement, and only its teachers emailed.
    4. One indexed query finds the graces ending within two days whose
       reminder hasn't gone out; they are sent in batches the same way.
    Return how many rows were evaluated, moved and reminded.
    """
    now = now or timezone.now()
    missing = (
        ActiveStudent.objects.filter(last_paid_at__gte=now - ACTIVE_WINDOW)
        .exclude(teacher_id__in=PlanCapState.objects.values("teacher_id"))
        .values_list("teacher_id", flat=True)
        .distinct()
    )
    PlanCapState.objects.bulk_create(
        [PlanCapState(teacher_id=teacher_id, entered_at=now) for teacher_id in missing],
        ignore_conflicts=True,
        batch_size=_BATCH,
    )
    evaluated = PlanCapState.objects.update(
        active_students=active_count(OuterRef("teacher_id"), now),
        cap=cap_expression(),
        evaluated_at=now,
    )
    moving = PlanCapState.objects.annotate(target=next_state_expression(now)).exclude(
        target=F("state")
    )
    moved = sum(
        _move(moving.filter(pk__in=batch), now)
        for batch in _batches(moving.values_list("pk", flat=True))
    )
    due = PlanCapState.objects.filter(
        state=State.GRACE,
        grace_reminder_sent_at__isnull=True,
        grace_ends_at__gt=now,
        grace_ends_at__lte=now + REMINDER_BEFORE,
    )
    reminded = sum(
        _send_reminders(due.filter(pk__in=batch), now)
        for batch in _batches(due.values_list("pk", flat=True))
    )
    return {"evaluated": evaluated, "moved": moved, "reminded": reminded}


def _batches(ids: Iterable[int]) -> list[list[int]]:
    ids = list(ids)
    return [ids[start : start + _BATCH] for start in range(0, len(ids), _BATCH)]


@transaction.atomic
def _move(rows: Any, now: datetime) -> int:
    """Move `rows` (annotated with their `target`) to it, record the moves and email them."""
    moves = [
        Move(*values)
        for values in rows.select_for_update(of=("self",)).values_list(
            "teacher_id", "state", "target", "active_students", "cap", "override_state"
        )
    ]
    for target in {move.to_state for move in moves}:
        teacher_ids = [move.teacher_id for move in moves if move.to_state == target]
        PlanCapState.objects.filter(teacher_id__in=teacher_ids).update(
            state=target, entered_at=now, **_entering(target, now)
        )
    _record(moves, now)
    return len(moves)


# --- Staff overrides -------------------------------------------------------------------------


@transaction.atomic
def override_state(*, teacher: Any, state: str, note: str, by: Any) -> PlanCapTransition:
    """Hold `teacher`'s cap state at `state` whatever evaluation finds, until lifted."""
    note = _required_note(note)
    if state not in State.values:
        raise CapOverrideError("Choose one of the four states.")
    row = _locked_row(teacher.pk)
    before = row.effective_state
    row.override_state, row.override_note = state, note
    row.overridden_by, row.overridden_at = by, timezone.now()
    row.save(update_fields=["override_state", "override_note", "overridden_by", "overridden_at"])
    label = State(state).label
    return _record_override(row, before, f"A staff member set the state to “{label}”.", by, note)


@transaction.atomic
def lift_override(*, teacher: Any, note: str, by: Any) -> PlanCapTransition:
    """End `teacher`'s override: the evaluated state applies again, and is evaluated afresh."""
    note = _required_note(note)
    row = _locked_row(teacher.pk)
    if not row.override_state:
        raise CapOverrideError("This teacher's state isn't overridden.")
    before = row.override_state
    row.override_state, row.override_note, row.overridden_by, row.overridden_at = "", "", None, None
    row.save(update_fields=["override_state", "override_note", "overridden_by", "overridden_at"])
    reason = "A staff member lifted the override: the evaluated state applies again."
    transition = _record_override(row, before, reason, by, note)
    evaluate(teacher.pk)
    return transition


def _required_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise CapOverrideError("Write a note saying why: it is kept with the change.")
    return note


def _locked_row(teacher_id: int) -> PlanCapState:
    PlanCapState.objects.bulk_create([PlanCapState(teacher_id=teacher_id)], ignore_conflicts=True)
    return PlanCapState.objects.select_for_update().get(teacher_id=teacher_id)


def _record_override(
    row: PlanCapState, before: str, reason: str, by: Any, note: str
) -> PlanCapTransition:
    after = row.effective_state
    transition = PlanCapTransition.objects.create(
        teacher_id=row.teacher_id,
        from_state=before,
        to_state=after,
        reason=reason,
        active_students=row.active_students,
        cap=row.cap,
        by=by,
        note=note,
    )
    if after != before:  # an override that changes nothing the teacher lives with says nothing
        cap_emails.send(
            row.teacher,
            key=f"plan-cap:{transition.pk}",
            kind=cap_emails.kind_of(after),
            was=before,
            active=row.active_students,
            cap=row.cap,
            grace_ends_at=row.grace_ends_at,
            by_staff=True,
        )
    return transition


# --- Records ----------------------------------------------------------------------


def _record(moves: list[Move], now: datetime) -> None:
    """Insert the moves' transitions in one statement and email each teacher once."""
    if not moves:
        return
    transitions = PlanCapTransition.objects.bulk_create(
        [
            PlanCapTransition(
                teacher_id=move.teacher_id,
                from_state=move.from_state,
                to_state=move.to_state,
                reason=_reason(move, now),
                active_students=move.active,
                cap=move.cap,
                at=now,
            )
            for move in moves
        ],
        batch_size=_BATCH,
    )
    told = [
        (move, t) for move, t in zip(moves, transitions, strict=True) if not move.override_state
    ]
    teachers = _teachers(move.teacher_id for move, _ in told)
    for move, transition in told:
        cap_emails.send(
            teachers[move.teacher_id],
            key=f"plan-cap:{transition.pk}",
            kind=cap_emails.kind_of(move.to_state),
            was=move.from_state,
            active=move.active,
            cap=move.cap,
            grace_ends_at=now + grace_period() if move.to_state == State.GRACE else None,
        )


def _reason(move: Move, now: datetime) -> str:
    figures = (
        f"{move.active} active students, no limit on the plan"
        if move.cap is None
        else f"{move.active} of {move.cap} active students"
    )
    ends = now + grace_period()
    words = {
        State.NORMAL: f"{figures}: under 80% of the limit.",
        State.WARNING: f"{figures}: 80% of the limit or more.",
        State.GRACE: f"{figures}: over the limit; grace until {ends:%Y-%m-%d %H:%M} UTC.",
        State.HARD_BLOCK: f"Grace ran out with {figures}: still over the limit.",
    }[State(move.to_state)]
    if move.from_state in OVER and move.to_state not in OVER:
        words = f"Back within the limit: {words}"
    if move.override_state:
        label = State(move.override_state).label
        words += f" A staff override (“{label}”) holds, so the teacher wasn't emailed."
    return words[:300]


@transaction.atomic
def _send_reminders(rows: Any, now: datetime) -> int:
    """Send the grace reminder of `rows` (graces ending within two days), once each."""
    due = list(
        rows.select_for_update(of=("self",))
        .filter(grace_reminder_sent_at__isnull=True)
        .values_list(
            "pk", "teacher_id", "grace_ends_at", "active_students", "cap", "override_state"
        )
    )
    if not due:
        return 0
    PlanCapState.objects.filter(pk__in=[pk for pk, *_ in due]).update(grace_reminder_sent_at=now)
    teachers = _teachers(teacher_id for _, teacher_id, *_ in due)
    for pk, teacher_id, ends, active, cap, override in due:
        if override in ("", State.GRACE):
            cap_emails.send(
                teachers[teacher_id],
                key=f"plan-cap-reminder:{pk}:{ends.timestamp():.0f}",
                kind="reminder",
                was=State.GRACE,
                active=active,
                cap=cap,
                grace_ends_at=ends,
            )
    return len(due)


def _teachers(ids: Iterable[int]) -> dict[int, Any]:
    return get_user_model().objects.in_bulk(list(set(ids)))
