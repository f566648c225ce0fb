"""Staff's review of fraud signals: dismiss, escalate (perhaps pausing sales), lift a pause.

A signal moves OPEN → DISMISSED or OPEN → ESCALATED, once, with the reviewer,
the time and their note. Escalating can pause the teacher's sales: from then
on `billing.services.gate` refuses new paid enrolments in their courses
(checkout and storefront), while students already enrolled keep their
access. A paused signal stays paused until a staff member lifts the pause.
The teacher is emailed when sales pause and when they resume, once each
(outbox keys derived from the signal).
"""

from typing import Any

from allauth.account.adapter import get_adapter
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import FraudSignal
from billing.services.common import _absolute
from outbox import services as outbox

Status = FraudSignal.Status


class ReviewError(Exception):
    """A review step that can't be taken; `message` says why, for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _lock(signal: FraudSignal) -> FraudSignal:
    return (
        FraudSignal.objects.select_for_update(of=("self",))
        .select_related("teacher")
        .get(pk=signal.pk)
    )


def _required(note: str) -> str:
    note = note.strip()
    if not note:
        raise ReviewError("Write a note saying why: the next reviewer reads it.")
    return note


def _state(signal: FraudSignal) -> str:
    return signal.get_status_display().lower()


def _record_review(signal: FraudSignal, status: str, by: User, note: str) -> None:
    signal.status = status
    signal.reviewed_at = timezone.now()
    signal.reviewed_by = by
    signal.review_note = note


@transaction.atomic
def dismiss_signal(*, signal: FraudSignal, by: User, note: str) -> FraudSignal:
    """Close an open signal as nothing to act on; the rule may raise a new one later."""
    note = _required(note)
    signal = _lock(signal)
    if signal.status != Status.OPEN:
        raise ReviewError(f"Only an open signal can be dismissed; this one is {_state(signal)}.")
    _record_review(signal, Status.DISMISSED, by, note)
    signal.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    return signal


@transaction.atomic
def escalate_signal(
    *, signal: FraudSignal, by: User, note: str, pause_sales: bool = False
) -> FraudSignal:
    """Escalate an open signal; with `pause_sales`, stop the teacher's new sales and tell them.

    An escalated signal whose sales were never paused can be escalated again
    to pause them (the note is added to the first).
    """
    note = _required(note)
    signal = _lock(signal)
    fields = ["status", "reviewed_at", "reviewed_by", "review_note"]
    if signal.status == Status.OPEN:
        _record_review(signal, Status.ESCALATED, by, note)
    elif signal.status == Status.ESCALATED and pause_sales and signal.sales_paused_at is None:
        _record_review(signal, Status.ESCALATED, by, f"{signal.review_note}\n\n{note}".strip())
    else:
        raise ReviewError(f"Only an open signal can be escalated; this one is {_state(signal)}.")
    if pause_sales:
        signal.sales_paused_at = timezone.now()
        fields.append("sales_paused_at")
        _email_teacher(signal, "billing/email/sales_paused", f"fraud-sales-paused:{signal.pk}")
    signal.save(update_fields=fields)
    return signal


@transaction.atomic
def lift_pause(*, signal: FraudSignal, by: User) -> FraudSignal:
    """Let the teacher sell again after an escalation paused their sales, and tell them."""
    signal = _lock(signal)
    if not signal.pauses_sales:
        raise ReviewError("This signal doesn't pause the teacher's sales.")
    signal.sales_resumed_at = timezone.now()
    signal.resumed_by = by
    signal.save(update_fields=["sales_resumed_at", "resumed_by"])
    _email_teacher(signal, "billing/email/sales_resumed", f"fraud-sales-resumed:{signal.pk}")
    return signal


def _email_teacher(signal: FraudSignal, template: str, key: str) -> None:
    """Queue the email in this transaction: it leaves once, and only if the change commits."""
    teacher = signal.teacher
    if teacher is None:
        return
    context: dict[str, Any] = {
        "user": teacher,
        "dashboard_url": _absolute(reverse("dashboard")),
    }
    message = get_adapter().render_mail(template, teacher.email, context)
    outbox.enqueue_email(key=key, message=message)
