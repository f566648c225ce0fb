"""How a payment ends: from webhooks, the return page and reconciliation.

A paid purchase's held seat becomes an enrolment, its coupon is redeemed and
one receipt is queued; a failed or abandoned purchase frees its seat. Each
function locks the purchase and returns early when its state is already
reached.
"""

from datetime import timedelta
from typing import Any

from allauth.account.adapter import get_adapter
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing import client, signals
from billing.models import ConnectAccount, Coupon, CouponRedemption, Purchase
from billing.services import effects
from billing.services.common import (
    CHECKOUT_MINUTES,
    _absolute,
    _enrollment_of,
    _lock,
    purchase_id_in,
)
from core.money import format_money
from courses.models import Enrollment
from courses.services import enrolment, holds
from courses.services import invitations as course_invitations
from notifications import services as notifications
from notifications.models import Kind
from outbox import services as outbox

Status = Purchase.Status

# A payment method that settles later (a bank debit) keeps its seat this long.
ASYNC_PAYMENT_HOLD = timedelta(days=14)


@transaction.atomic
def session_completed(*, session: dict[str, Any]) -> Purchase | None:
    """A Checkout Session finished: paid now, or waiting for a payment that settles later."""
    purchase_id = purchase_id_in(session)
    purchase = _lock(purchase_id) if purchase_id else None
    if purchase is None:
        return None
    intent = session.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, dict) else intent
    if session.get("payment_status") in ("paid", "no_payment_required"):
        if purchase.status in (Status.PENDING, Status.EXPIRED, Status.FAILED):
            charge = intent.get("latest_charge") if isinstance(intent, dict) else None
            _fulfil(
                purchase,
                hold=_enrollment_of(purchase),
                paid={
                    "payment_intent_id": intent_id,
                    "charge": charge if isinstance(charge, dict) else {},
                },
            )
        return purchase
    # Paid by a method that settles later: keep the seat until it does.
    if purchase.status == Status.PENDING:
        if intent_id and not purchase.payment_intent_id:
            purchase.payment_intent_id = intent_id
        purchase.expires_at = timezone.now() + ASYNC_PAYMENT_HOLD
        purchase.save(update_fields=["payment_intent_id", "expires_at", "updated_at"])
        hold = _enrollment_of(purchase)
        if hold is not None and hold.status == Enrollment.Status.HELD:
            holds.hold_seat(course=hold.course, student=hold.student, until=purchase.expires_at)
    return purchase


@transaction.atomic
def payment_failed(*, session: dict[str, Any]) -> Purchase | None:
    """A payment that settles later failed after all (pending → failed): the seat is freed."""
    return _end_unpaid(purchase_id_in(session), Status.FAILED, "The payment didn't go through.")


@transaction.atomic
def session_expired(*, session: dict[str, Any]) -> Purchase | None:
    """The buyer never paid and the session ran out (pending → abandoned): the seat is freed."""
    return _end_unpaid(
        purchase_id_in(session), Status.EXPIRED, "The checkout expired before it was paid."
    )


@transaction.atomic
def _mark_abandoned(purchase: Purchase, reason: str) -> None:
    _end_unpaid(purchase.pk, Status.EXPIRED, reason)


def _end_unpaid(purchase_id: int | None, status: str, reason: str) -> Purchase | None:
    """Close a purchase still pending (→ failed or abandoned) and free its seat.

    Called inside a transaction. A purchase that is no longer pending (paid,
    or closed already) is returned as it is.
    """
    purchase = _lock(purchase_id) if purchase_id else None
    if purchase is None or purchase.status != Status.PENDING:
        return purchase
    purchase.status = status
    purchase.failed_at = timezone.now()
    purchase.failure_reason = reason[:200]
    purchase.save(update_fields=["status", "failed_at", "failure_reason", "updated_at"])
    _release_seat(purchase)
    return purchase


def _release_seat(purchase: Purchase) -> None:
    hold = _enrollment_of(purchase)
    if hold is not None and hold.status == Enrollment.Status.HELD:
        holds.release_hold(enrollment=hold)


def _fulfil(purchase: Purchase, *, hold: Enrollment | None, paid: dict[str, Any]) -> None:
    """Record the payment (→ paid), give the seat, redeem the coupon and send one receipt.

    Called with the purchase locked and still unpaid. The seat held for the
    checkout becomes an enrolment. A hold that lapsed before the payment was
    recorded (its event came very late) gets a seat if one is still free;
    if the course filled up meanwhile the payment stands and the teacher is
    emailed to add a seat or refund (a session lives 30 minutes, its hold 35).
    """
    now = timezone.now()
    charge = paid.get("charge") or {}
    purchase.status = Status.PAID
    purchase.paid_at = now
    purchase.failure_reason = ""
    purchase.payment_intent_id = paid.get("payment_intent_id") or purchase.payment_intent_id
    purchase.charge_id = charge.get("id") or purchase.charge_id
    purchase.receipt_url = charge.get("receipt_url") or purchase.receipt_url
    purchase.save()
    if purchase.coupon_id:
        _redeem(purchase)
    seat_problem = ""
    if hold is not None:
        try:
            holds.confirm_hold(enrollment=hold)
        except enrolment.EnrolmentError as error:
            seat_problem = error.message
    effects.purchase_changed(purchase)
    transaction.on_commit(lambda: signals.purchase_paid.send(sender=Purchase, purchase=purchase))
    _send_receipt(purchase)
    if hold is not None and course_invitations.is_unclaimed(hold.student):
        course_invitations.send_invitation(hold)
    _tell_teacher_of_sale(purchase, seat_problem)


def _redeem(purchase: Purchase) -> None:
    coupon = Coupon.objects.select_for_update().get(pk=purchase.coupon_id or 0)
    created = CouponRedemption.objects.get_or_create(
        purchase=purchase,
        defaults={
            "coupon": coupon,
            "student_id": purchase.student_id,
            "discount_amount": purchase.discount_amount,
            "currency": purchase.currency,
        },
    )[1]
    if created:
        coupon.times_redeemed += 1
        coupon.save(update_fields=["times_redeemed"])


def _send_receipt(purchase: Purchase) -> None:
    student = purchase.student
    if student is None:
        return
    account = ConnectAccount.objects.filter(stripe_account_id=purchase.connect_account_id).first()
    teacher = purchase.teacher
    seller = (account.business_name if account else "") or (
        teacher.organisation_name or teacher.get_full_name() if teacher else ""
    )
    context = {
        "user": student,
        "purchase": purchase,
        "seller": seller,
        "gross": format_money(purchase.gross_amount, purchase.currency),
        "discount": format_money(purchase.discount_amount, purchase.currency)
        if purchase.discount_amount
        else "",
        "amount": format_money(purchase.amount, purchase.currency),
        "course_url": _absolute(reverse("courses:course", args=[purchase.course.slug]))
        if purchase.course
        else "",
        "purchases_url": _absolute(reverse("billing:purchases")),
    }
    message = get_adapter().render_mail("billing/email/receipt", student.email, context)
    outbox.enqueue_email(key=f"purchase-receipt:{purchase.pk}", message=message)


def _tell_teacher_of_sale(purchase: Purchase, seat_problem: str) -> None:
    if purchase.teacher is None:
        return
    name = purchase.student.get_full_name() if purchase.student else "A student"
    amount = format_money(purchase.amount, purchase.currency)
    body = f"{name} paid {amount}."
    if seat_problem:
        body += f" Their seat couldn't be given: {seat_problem} Refund them or add a seat."
    notifications.notify(
        recipient=purchase.teacher,
        kind=Kind.PAYMENT,
        title=f"New sale: {purchase.course_title}",
        body=body,
        url=reverse("billing:sale", args=[purchase.pk]),
        course=purchase.course,
        dedupe_key=f"sale:{purchase.pk}",
        email=bool(seat_problem),
    )


def confirm_from_stripe(*, purchase: Purchase) -> Purchase:
    """Ask Stripe how a pending purchase's session ended and apply it (return page, sweep)."""
    if purchase.status != Status.PENDING:
        return purchase
    if not purchase.checkout_session_id:
        if purchase.created_at < timezone.now() - timedelta(minutes=CHECKOUT_MINUTES):
            _mark_abandoned(purchase, "No checkout was opened.")
        return Purchase.objects.get(pk=purchase.pk)
    session = client.retrieve_checkout_session(purchase.checkout_session_id)
    if session.get("status") == "complete":
        session_completed(session=session)
    elif session.get("status") == "expired":
        session_expired(session=session)
    return Purchase.objects.get(pk=purchase.pk)
