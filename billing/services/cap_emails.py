"""The emails that tell a teacher where they stand against their plan's active-student limit.

One template set (`billing/email/plan_cap_*`) says each state in plain words,
and whether the teacher has just come back within the limit or staff changed
the state by hand. Every email links to the teacher's plan page and goes
through the outbox under a key derived from the transition (or the grace, for
its reminder), so it is queued once whatever runs twice.
"""

from datetime import datetime
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, timezone

from billing.models import PlanCapState
from billing.services.common import _absolute
from notifications.services import user_zone
from outbox import services as outbox

State = PlanCapState.State


def plan_url() -> str:
    """The page where a teacher sees and changes their plan ("Plan & billing")."""
    return reverse("billing:plan")


def teacher_time(at: datetime, teacher: Any) -> str:
    """Say when `at` is, in the teacher's own time zone, for an email or a banner."""
    zone = user_zone(teacher)
    return f"{dateformat.format(timezone.localtime(at, zone), 'j F Y, H:i')} ({zone})"


def kind_of(state: str) -> str:
    """The email's kind for a move into `state` (the reminder is the other kind)."""
    return "blocked" if state == State.HARD_BLOCK else str(state)


def send(
    teacher: Any,
    *,
    key: str,
    kind: str,
    was: str,
    active: int,
    cap: int | None,
    grace_ends_at: datetime | None,
    by_staff: bool = False,
) -> None:
    """Queue the email of one transition or reminder, once per `key`."""
    if teacher is None or not teacher.is_active or not teacher.email:
        return
    context = {
        "user": teacher,
        "kind": kind,
        "was_blocked": was == State.HARD_BLOCK,
        "was_over": was in (State.GRACE, State.HARD_BLOCK),
        "by_staff": by_staff,
        "active": active,
        "cap": cap,
        "grace_days": settings.PLAN_CAP_GRACE_DAYS,
        "grace_ends": teacher_time(grace_ends_at, teacher) if grace_ends_at else "",
        "plan_url": _absolute(plan_url()),
    }
    message = get_adapter().render_mail("billing/email/plan_cap", teacher.email, context)
    outbox.enqueue_email(key=key, message=message)
