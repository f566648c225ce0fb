"""Whether a teacher may take new paid enrolments now, apart from their Stripe set-up.

Two things stop new sales, and only new sales (students already enrolled keep
their access): a plan-cap state of HARD_BLOCK (the evaluated one, or a staff
override), and a fraud signal escalated with a pause that staff have not lifted.
Checkout asks `refusal` before it holds a seat; the storefront reads
`refusal_expression` (the same answer, words included) in its one facts query.
"""

from typing import Any

from django.db.models import Case, CharField, Exists, OuterRef, Q, Value, When

from billing.models import FraudSignal, PlanCapState

CapState = PlanCapState.State

CAP_BLOCKED_WORDS = (
    "This teacher isn't taking new paid enrolments right now. "
    "Students already enrolled keep their access."
)
PAUSED_WORDS = "This teacher's sales are paused while we review their account."

_BLOCKED = Q(override_state=CapState.HARD_BLOCK) | Q(override_state="", state=CapState.HARD_BLOCK)
_PAUSED = Q(sales_paused_at__isnull=False, sales_resumed_at__isnull=True)


def refusal(teacher_id: int) -> str:
    """Why `teacher_id` can't take a new paid enrolment now, for the buyer; "" when they can."""
    if PlanCapState.objects.filter(_BLOCKED, teacher_id=teacher_id).exists():
        return CAP_BLOCKED_WORDS
    if FraudSignal.objects.filter(_PAUSED, teacher_id=teacher_id).exists():
        return PAUSED_WORDS
    return ""


def paused_expression(teacher_field: str = "teacher_id") -> Any:
    """True where the row's teacher (`teacher_field`) can't take new paid enrolments now."""
    teacher = OuterRef(teacher_field)
    return Exists(PlanCapState.objects.filter(_BLOCKED, teacher_id=teacher)) | Exists(
        FraudSignal.objects.filter(_PAUSED, teacher_id=teacher)
    )


def refusal_expression(teacher_field: str = "teacher_id") -> Any:
    """`refusal` for the row's teacher (`teacher_field`), in SQL: "" when they can sell."""
    teacher = OuterRef(teacher_field)
    return Case(
        When(
            Exists(PlanCapState.objects.filter(_BLOCKED, teacher_id=teacher)),
            then=Value(CAP_BLOCKED_WORDS),
        ),
        When(
            Exists(FraudSignal.objects.filter(_PAUSED, teacher_id=teacher)),
            then=Value(PAUSED_WORDS),
        ),
        default=Value(""),
        output_field=CharField(),
    )
