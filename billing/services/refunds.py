"""Refunds and disputes, made here by the teacher or in Stripe's dashboard.

A refund or dispute can arrive before the payment it is about: the payment
is recorded first (`billing.services.outcomes`), then the refund or dispute.
"""

from typing import Any

from allauth.account.adapter import get_adapter
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing import client
from billing.client import PaymentServiceError
from billing.models import Purchase, Refund
from billing.services import effects
from billing.services.common import _absolute, _enrollment_of, _lock, purchase_id_in
from billing.services.outcomes import _fulfil
from core.money import format_money
from courses.models import Enrollment
from courses.services import enrolment
from notifications import services as notifications
from notifications.models import Kind
from outbox import services as outbox

Status = Purchase.Status


class RefundRefusedError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refund(*, purchase: Purchase, amount: int, keep_access: bool, reason: str = "") -> Refund:
    """Refund `amount` of a paid purchase through Stripe, as the teacher asked.

    The refund row is written first under its own key (also Stripe's
    idempotency key), so a form sent twice makes one refund; it carries the
    teacher's keep-access choice, which Stripe's events about it follow. The
    purchase is changed only once Stripe accepts: a refused refund leaves it
    as it was, with only its failed row to tell. Its state then follows from
    what Stripe answers, as it would from the webhook.
    """
    with transaction.atomic():
        locked = _lock(purchase.pk)
        if locked is None or locked.status not in (Status.PAID, Status.PARTIALLY_REFUNDED):
            raise RefundRefusedError("Only a paid purchase can be refunded.")
        if not locked.payment_intent_id:
            raise RefundRefusedError("This purchase was free: there is nothing to refund.")
        if amount <= 0 or amount > locked.refundable_amount:
            left = format_money(locked.refundable_amount, locked.currency)
            raise RefundRefusedError(f"Refund between 0 and {left}.")
        number = locked.refunds.count() + 1
        row = Refund.objects.create(
            purchase=locked,
            key=f"refund:{locked.pk}:{number}",
            amount=amount,
            currency=locked.currency,
            reason=reason[:200],
            end_access=not keep_access,
        )
    try:
        made = client.create_refund(
            payment_intent_id=locked.payment_intent_id,
            amount=amount,
            idempotency_key=row.key,
            metadata={"purchase_id": str(locked.pk), "refund_key": row.key},
        )
    except PaymentServiceError as error:
        Refund.objects.filter(pk=row.pk).update(status=Refund.Status.FAILED, error=error.message)
        raise RefundRefusedError(error.message) from error
    with transaction.atomic():
        Purchase.objects.filter(pk=locked.pk).update(
            keep_access_on_refund=keep_access, updated_at=timezone.now()
        )
        refund_updated(refund=made)
    row.refresh_from_db()
    return row


@transaction.atomic
def refund_updated(*, refund: dict[str, Any]) -> Purchase | None:
    """Mirror a Stripe refund (ours or made in the dashboard) and the purchase it belongs to."""
    purchase = _purchase_for_payment(refund)
    if purchase is None:
        return None
    key = (refund.get("metadata") or {}).get("refund_key") or f"stripe:{refund['id']}"
    status = {
        "succeeded": Refund.Status.SUCCEEDED,
        "failed": Refund.Status.FAILED,
        "canceled": Refund.Status.FAILED,
    }.get(refund.get("status") or "", Refund.Status.PENDING)
    row = Refund.objects.filter(stripe_refund_id=refund["id"]).first() or (
        Refund.objects.filter(key=key).first()
    )
    if row is None:
        row = Refund(
            purchase=purchase,
            key=key,
            amount=refund.get("amount") or 0,
            currency=purchase.currency,
            end_access=not purchase.keep_access_on_refund,
        )
    finished = row.status in (Refund.Status.SUCCEEDED, Refund.Status.FAILED)
    row.stripe_refund_id = refund["id"]
    if not finished:
        row.status = status
        if status == Refund.Status.SUCCEEDED:
            row.succeeded_at = timezone.now()
    row.save()
    succeeded = sum(
        purchase.refunds.filter(status=Refund.Status.SUCCEEDED).values_list("amount", flat=True)
    )
    _apply_refunded(purchase, succeeded, end_access=row.end_access)
    if row.status == Refund.Status.SUCCEEDED and not finished:
        _send_refund_email(purchase, row)
    return purchase


@transaction.atomic
def charge_refunded(*, charge: dict[str, Any]) -> Purchase | None:
    """A charge says how much of it is refunded in all: the purchase follows (never downwards)."""
    purchase = _purchase_for_payment(charge)
    if purchase is None:
        return None
    for item in (charge.get("refunds") or {}).get("data") or []:
        refund_updated(refund=item)
    purchase.refresh_from_db()
    _apply_refunded(purchase, charge.get("amount_refunded") or 0, end_access=_ends_access(purchase))
    return purchase


def _ends_access(purchase: Purchase) -> bool:
    """Say whether a refund the charge reports in total ends the student's seat.

    The latest refund not failed decides: the charge's event can arrive before
    Stripe's answer to our own refund, when only that refund's row holds the
    teacher's choice. Without one (a refund made in the dashboard), the
    purchase's stored choice does.
    """
    latest = purchase.refunds.exclude(status=Refund.Status.FAILED).order_by("-created_at").first()
    if latest is not None:
        return latest.end_access
    return not purchase.keep_access_on_refund


def _apply_refunded(purchase: Purchase, refunded: int, *, end_access: bool) -> None:
    refunded = min(purchase.amount, max(purchase.refunded_amount, refunded))
    if refunded == purchase.refunded_amount:
        return
    purchase.refunded_amount = refunded
    if purchase.status != Status.DISPUTED:
        purchase.status = (
            Status.REFUNDED if refunded >= purchase.amount else Status.PARTIALLY_REFUNDED
        )
    if refunded >= purchase.amount:
        purchase.refunded_at = purchase.refunded_at or timezone.now()
    purchase.save()
    effects.purchase_changed(purchase)
    if refunded >= purchase.amount and end_access:
        seat = _enrollment_of(purchase)
        if seat is not None and seat.status == Enrollment.Status.ACTIVE:
            enrolment.leave_course(enrollment=seat)


def _purchase_for_payment(obj: dict[str, Any]) -> Purchase | None:
    """Find and lock the purchase a charge, refund or dispute is about; unpaid ones are paid first.

    A refund or dispute can arrive before the payment's own event: the charge
    it names succeeded, so the purchase is recorded as paid before anything
    else is applied.
    """
    intent = obj.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, dict) else intent
    purchase_id = purchase_id_in(obj)
    purchase = None
    if purchase_id:
        purchase = _lock(purchase_id)
    elif intent_id:
        found = Purchase.objects.filter(payment_intent_id=intent_id).values_list("pk", flat=True)
        purchase = _lock(found[0]) if found else None
    if purchase is None and intent_id:
        fetched = client.retrieve_payment_intent(intent_id)
        purchase_id = purchase_id_in(fetched)
        purchase = _lock(purchase_id) if purchase_id else None
    if purchase is None:
        return None
    if purchase.status in (Status.PENDING, Status.EXPIRED, Status.FAILED):
        charge = obj if obj.get("object") == "charge" else {}
        _fulfil(
            purchase,
            hold=_enrollment_of(purchase),
            paid={"payment_intent_id": intent_id, "charge": charge},
        )
    return purchase


def _send_refund_email(purchase: Purchase, row: Refund) -> None:
    student = purchase.student
    if student is None:
        return
    context = {
        "user": student,
        "purchase": purchase,
        "refund": row,
        "amount": format_money(row.amount, row.currency),
        "full": purchase.refunded_amount >= purchase.amount,
        "keeps_access": not row.end_access,
        "purchases_url": _absolute(reverse("billing:purchases")),
    }
    message = get_adapter().render_mail("billing/email/refund", student.email, context)
    outbox.enqueue_email(key=f"purchase-refund:{row.pk}", message=message)


@transaction.atomic
def dispute_opened(*, dispute: dict[str, Any]) -> Purchase | None:
    purchase = _purchase_for_payment(dispute)
    if purchase is None or purchase.status == Status.DISPUTED:
        return purchase
    purchase.status = Status.DISPUTED
    purchase.disputed_at = timezone.now()
    purchase.save(update_fields=["status", "disputed_at", "updated_at"])
    if purchase.teacher is not None:
        notifications.notify(
            recipient=purchase.teacher,
            kind=Kind.PAYMENT,
            title=f"A payment is disputed: {purchase.course_title}",
            body="The buyer's bank opened a dispute. Answer it from your Stripe dashboard.",
            url=reverse("billing:sale", args=[purchase.pk]),
            course=purchase.course,
            dedupe_key=f"dispute:{dispute.get('id')}",
        )
    return purchase


@transaction.atomic
def dispute_closed(*, dispute: dict[str, Any]) -> Purchase | None:
    purchase = _purchase_for_payment(dispute)
    if purchase is None:
        return None
    won = dispute.get("status") in ("won", "warning_closed")
    if purchase.status == Status.DISPUTED and won:
        purchase.status = (
            Status.PAID
            if purchase.refunded_amount == 0
            else Status.REFUNDED
            if purchase.refunded_amount >= purchase.amount
            else Status.PARTIALLY_REFUNDED
        )
        purchase.save(update_fields=["status", "updated_at"])
    if purchase.teacher is not None:
        notifications.notify(
            recipient=purchase.teacher,
            kind=Kind.PAYMENT,
            title=f"Dispute {'won' if won else 'lost'}: {purchase.course_title}",
            body="The payment stays yours."
            if won
            else "The bank returned the payment to the buyer.",
            url=reverse("billing:sale", args=[purchase.pk]),
            course=purchase.course,
            dedupe_key=f"dispute-closed:{dispute.get('id')}",
        )
    return purchase
