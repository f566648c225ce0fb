"""AI units, allowances, the request log and consent: everything AI features write.

A unit is 1,000 tokens (prompt and completion together, as the endpoint
reports them), rounded up per request. Units count against a teacher (the
course's teacher when a student asks) per calendar month in UTC, one
`AiUsageMonth` row a month, so a new month starts from zero without any job
resetting anything. Only answered requests cost units: a refusal, an
endpoint error or a time-out is logged with none.
"""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from ai import client
from ai.models import AiConsent, AiRequest, AiUsageMonth
from billing.services import plans

TOKENS_PER_UNIT = 1000


class OutOfUnitsError(Exception):
    """The teacher's AI units for this month are used up; `message` says so."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoConsentError(Exception):
    """The person hasn't agreed to AI processing (or withdrew); `message` says so."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def units_for(prompt_tokens: int, completion_tokens: int) -> int:
    """Return the units `prompt_tokens + completion_tokens` cost: 1 per 1,000, rounded up."""
    return math.ceil(max(0, prompt_tokens + completion_tokens) / TOKENS_PER_UNIT)


def month_of(moment: datetime | None = None) -> date:
    """Return the first day of the UTC month of `moment` (now by default)."""
    moment = moment or timezone.now()
    return moment.astimezone(UTC).date().replace(day=1)


def allowance(teacher: Any) -> int | None:
    """Return the teacher's AI units a month from their plan (Free at least); None: no limit."""
    return plans.plan_of(teacher).ai_units_per_month


def used_this_month(teacher: Any) -> int:
    row = AiUsageMonth.objects.filter(teacher_id=teacher.pk, month=month_of()).first()
    return row.units if row is not None else 0


def units_since(teacher: Any, since: datetime) -> int:
    """Return the units counted against `teacher` in the months from `since`'s on (the meter)."""
    total = AiUsageMonth.objects.filter(
        teacher_id=teacher.pk, month__gte=month_of(since)
    ).aggregate(total=Sum("units"))["total"]
    return total or 0


@dataclass(frozen=True)
class Allowance:
    used: int
    limit: int | None

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


def allowance_of(teacher: Any) -> Allowance:
    """Return what the teacher used this month and may use, for pages that show it."""
    return Allowance(used_this_month(teacher), allowance(teacher))


def check_allowance(teacher: Any) -> None:
    """Raise `OutOfUnitsError` when the teacher has no AI units left this month."""
    state = allowance_of(teacher)
    if state.left == 0:
        raise OutOfUnitsError(
            f"This month's AI units are used up ({state.used} of {state.limit}). They start "
            "again on the first of next month; a bigger plan has more."
        )


def record(
    *,
    action: str,
    outcome: str,
    user: Any = None,
    teacher: Any = None,
    course: Any = None,
    user_id: int | None = None,
    teacher_id: int | None = None,
    course_id: int | None = None,
    context_item_ids: list[int] | None = None,
    completion: client.Completion | None = None,
    error: str = "",
) -> AiRequest:
    """Log one AI request; an answered one also adds its units to the teacher's month.

    Who asked, whose units and the course come as objects or, from a task, as ids.
    """
    user_id = user.pk if user is not None else user_id
    teacher_id = teacher.pk if teacher is not None else teacher_id
    course_id = course.pk if course is not None else course_id
    ok = outcome == AiRequest.Outcome.OK
    units = units_for(completion.prompt_tokens, completion.completion_tokens) if completion else 0
    with transaction.atomic():
        logged = AiRequest.objects.create(
            user_id=user_id,
            teacher_id=teacher_id,
            course_id=course_id,
            action=action,
            outcome=outcome,
            context_item_ids=[int(i) for i in context_item_ids or []],
            prompt_tokens=completion.prompt_tokens if completion else 0,
            completion_tokens=completion.completion_tokens if completion else 0,
            units=units if ok else 0,
            model=completion.model if completion else "",
            latency_ms=completion.latency_ms if completion else 0,
            error=error[:300],
        )
        if ok and units and teacher_id is not None:
            _add_units(teacher_id, units, month_of(logged.created_at))
    return logged


def _add_units(teacher_id: int, units: int, month: date) -> None:
    # Insert first, then add in the database: two requests finishing together both count.
    row, _ = AiUsageMonth.objects.get_or_create(teacher_id=teacher_id, month=month)
    AiUsageMonth.objects.filter(pk=row.pk).update(units=F("units") + units)


# --- Consent ---------------------------------------------------------------


def has_consented(user: Any) -> bool:
    """Say whether `user` agrees, now, to AI requests going to the configured endpoint.

    Consent is to a recipient: given while requests went to another host, it
    doesn't cover this one, and the person is asked again.
    """
    if not getattr(user, "is_authenticated", False) or not client.configured():
        return False
    return AiConsent.objects.filter(
        user_id=user.pk, given=True, endpoint_host=client.endpoint_host()
    ).exists()


def require_consent(user: Any) -> None:
    """Raise `NoConsentError` unless `user` agrees to AI processing now."""
    if not has_consented(user):
        raise NoConsentError(
            "Turn on AI features in Settings → Privacy first: nothing is sent to the AI "
            "service without your consent."
        )


def give_consent(user: Any) -> AiConsent:
    """Record that `user` agrees to AI requests going to the configured endpoint."""
    if not client.configured():
        raise client.AiUnavailableError(client.NOT_CONFIGURED)
    consent, _ = AiConsent.objects.get_or_create(user=user)
    host = client.endpoint_host()
    if consent.given and consent.endpoint_host == host:
        return consent
    consent.given = True
    consent.given_at = timezone.now()
    consent.endpoint_host = host
    consent.save(update_fields=["given", "given_at", "endpoint_host"])
    return consent


def withdraw_consent(user: Any) -> None:
    """Record that `user` no longer agrees; the next request is refused."""
    AiConsent.objects.filter(user_id=user.pk, given=True).update(
        given=False, withdrawn_at=timezone.now()
    )
