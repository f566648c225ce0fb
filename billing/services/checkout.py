"""Buying a course: the seat held, the pending purchase and its Stripe Checkout Session.

The seat is held a little longer than the session lives. A purchase given up
before it is paid (a new checkout, a session that couldn't be opened) is
closed through `billing.services.outcomes`, which frees the seat. The page
the buyer returns to has a signed address, so a visitor can see it too.
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing import client
from billing.client import PaymentServiceError
from billing.models import ConnectAccount, Coupon, Purchase
from billing.services import gate, plans
from billing.services.common import CHECKOUT_MINUTES
from billing.services.connect import connect_account_of
from billing.services.outcomes import _fulfil, _mark_abandoned, confirm_from_stripe
from billing.services.pricing import CouponError, Quote, coupon_refusal, platform_fee, quote
from courses.models import Course
from courses.services import enrolment, holds, registration

Status = Purchase.Status

# The seat is held a little longer than its Checkout Session lives.
HOLD_SLACK = timedelta(minutes=5)
RETURN_SALT = "billing.purchase-return"


class CheckoutRefusedError(Exception):
    """A purchase that can't start; `message` says why, for the buyer."""

    def __init__(self, message: str, *, sold_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.sold_out = sold_out


@dataclass(frozen=True)
class Checkout:
    """Where to send the buyer next: Stripe Checkout, or straight in (nothing to pay)."""

    purchase: Purchase | None
    redirect_url: str


def can_sell(teacher_id: int) -> bool:
    return ConnectAccount.objects.filter(
        teacher_id=teacher_id, charges_enabled=True, payouts_enabled=True
    ).exists()


def start_checkout(*, course: Course, student: User, code: str = "", base_url: str) -> Checkout:
    """Hold a seat for `student`, record the purchase and open a Stripe Checkout Session.

    A purchase already pending for them (a second click, a back button) is
    sent back to its own session. Nothing to pay (a 100%-off coupon) enrols
    them at once, without Stripe.
    """
    pending = Purchase.objects.filter(student=student, course=course, status=Status.PENDING).first()
    same_code = pending is not None and pending.coupon_code.lower() == code.strip().lower()
    if pending is not None and same_code and pending.checkout_url and not _lapsed(pending):
        return Checkout(pending, pending.checkout_url)
    if pending is not None:
        _abandon(pending)
        pending.refresh_from_db()
        if pending.status == Status.PAID:  # it was paid just now, after all
            return Checkout(pending, reverse("courses:course", args=[course.slug]))
    _refuse_if_paused(course)
    try:
        price = quote(course=course, code=code, student=student)
    except CouponError as error:
        raise CheckoutRefusedError(error.message) from error
    purchase = _hold_and_record(course, student, price)
    if purchase.status == Status.PAID:
        return Checkout(purchase, reverse("courses:course", args=[course.slug]))
    return Checkout(purchase, _open_session(purchase, course, student, base_url))


def start_visitor_checkout(
    *, course: Course, email: str, first_name: str, last_name: str, code: str = "", base_url: str
) -> Checkout:
    """A visitor buying: an account is made for their address (as registering does), then checkout.

    When the address already has an account, they are emailed a link to log
    in and finish, and `redirect_url` is empty: the caller shows the same
    "check your email" page either way.
    """
    _refuse_if_paused(course)
    try:
        price = quote(course=course, code=code)
    except CouponError as error:
        raise CheckoutRefusedError(error.message) from error
    try:
        hold = registration.register_buyer(
            course=course, email=email, first_name=first_name, last_name=last_name
        )
    except enrolment.CourseFullError as error:
        raise CheckoutRefusedError(error.message, sold_out=True) from error
    except enrolment.EnrolmentError as error:
        raise CheckoutRefusedError(error.message) from error
    if hold is None:
        return Checkout(None, "")
    student = hold.student
    pending = Purchase.objects.filter(student=student, course=course, status=Status.PENDING)
    for stale in pending:
        _abandon(stale)
    purchase = _hold_and_record(course, student, price)
    if purchase.status == Status.PAID:
        return Checkout(purchase, return_url(purchase))
    return Checkout(purchase, _open_session(purchase, course, student, base_url))


def _refuse_if_paused(course: Course) -> None:
    """New paid enrolments stop in a plan-cap block or a sales pause (`billing.services.gate`)."""
    words = gate.refusal(course.teacher_id)
    if words:
        raise CheckoutRefusedError(words)


def _lapsed(purchase: Purchase) -> bool:
    return purchase.expires_at is not None and purchase.expires_at <= timezone.now()


def _hold_and_record(course: Course, student: User, price: Quote) -> Purchase:
    """Hold the seat and write the pending purchase in one transaction (free: enrol at once)."""
    account = connect_account_of(course.teacher)
    if account is None or not account.can_sell:
        raise CheckoutRefusedError("This course isn't open for enrolment yet.")
    expires = timezone.now() + timedelta(minutes=CHECKOUT_MINUTES)
    with transaction.atomic():
        try:
            hold = holds.hold_seat(course=course, student=student, until=expires + HOLD_SLACK)
        except enrolment.CourseFullError as error:
            raise CheckoutRefusedError(
                "Sorry, the last seat has just gone. Join the waitlist to get the next one.",
                sold_out=True,
            ) from error
        except enrolment.EnrolmentError as error:
            raise CheckoutRefusedError(error.message) from error
        if price.coupon is not None:
            # Checked again under the coupon's lock: two buyers of its last use queue here,
            # and the second sees the first's checkout counted.
            coupon = Coupon.objects.select_for_update().get(pk=price.coupon.pk)
            refusal = coupon_refusal(coupon, course, student)
            if refusal:
                raise CheckoutRefusedError(refusal)
        try:
            purchase = Purchase.objects.create(
                student=student,
                teacher_id=course.teacher_id,
                course=course,
                course_title=course.title,
                connect_account_id=account.stripe_account_id,
                coupon=price.coupon,
                coupon_code=price.coupon.code if price.coupon else "",
                gross_amount=price.gross,
                discount_amount=price.discount,
                amount=price.amount,
                currency=price.currency,
                application_fee_amount=platform_fee(price.amount, plans.plan_of(course.teacher)),
                expires_at=expires,
            )
        except IntegrityError as error:  # another tab opened a checkout for them just now
            raise CheckoutRefusedError(
                "A payment for this course is already open in another window."
            ) from error
        if price.amount == 0:
            _fulfil(purchase, hold=hold, paid={})
    return purchase


def _open_session(purchase: Purchase, course: Course, student: User, base_url: str) -> str:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": purchase.currency.lower(),
                    "unit_amount": purchase.amount,
                    "product_data": {"name": course.title[:250]},
                },
            }
        ],
        "payment_intent_data": {
            "application_fee_amount": purchase.application_fee_amount,
            "transfer_data": {"destination": purchase.connect_account_id},
            "metadata": {"purchase_id": str(purchase.pk), "course_id": str(course.pk)},
            "description": course.title[:250],
        },
        "customer_email": student.email,
        "client_reference_id": str(purchase.pk),
        "metadata": {"purchase_id": str(purchase.pk)},
        "expires_at": math.ceil(purchase.expires_at.timestamp()) if purchase.expires_at else None,
        "success_url": base_url + return_url(purchase),
        "cancel_url": base_url + course.get_absolute_url() + "?checkout=cancelled",
    }
    try:
        session = client.create_checkout_session(params, idempotency_key=f"checkout:{purchase.pk}")
    except PaymentServiceError as error:
        _mark_abandoned(purchase, error.message)
        raise CheckoutRefusedError(error.message) from error
    Purchase.objects.filter(pk=purchase.pk, status=Status.PENDING).update(
        checkout_session_id=session["id"], checkout_url=session.get("url") or ""
    )
    purchase.checkout_session_id = session["id"]
    purchase.checkout_url = session.get("url") or ""
    return purchase.checkout_url


def return_url(purchase: Purchase) -> str:
    """The page a buyer comes back to from Checkout: signed, so a visitor can see it too."""
    token = signing.dumps(purchase.pk, salt=RETURN_SALT)
    return reverse("billing:checkout_return", args=[token])


def purchase_from_token(token: str) -> Purchase | None:
    try:
        pk = signing.loads(token, salt=RETURN_SALT, max_age=timedelta(days=30))
    except signing.BadSignature:
        return None
    return Purchase.objects.select_related("course", "student").filter(pk=pk).first()


def _abandon(purchase: Purchase, reason: str = "") -> None:
    """Give up a pending purchase (pending → expired), freeing its seat.

    Its Checkout Session is expired at Stripe first, so it can't be paid
    afterwards. If Stripe says it was paid meanwhile, that is recorded instead.
    """
    if purchase.checkout_session_id:
        try:
            client.expire_checkout_session(purchase.checkout_session_id)
        except PaymentServiceError:
            confirm_from_stripe(purchase=purchase)
            return
    _mark_abandoned(purchase, reason)
