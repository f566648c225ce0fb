"""Every write about money: Connect accounts, checkouts, payments, refunds and disputes.

Purchase states and the one way into each
-----------------------------------------

    pending --payment succeeded (checkout.session.completed paid, async succeeded,
              a paid charge seen first, or the session retrieved)--> paid
    pending --checkout.session.async_payment_failed--> failed
    pending --checkout.session.expired, or no session made--> expired ("abandoned")
    paid / partially refunded --refunds (ours or the dashboard's)--> partially refunded, refunded
    paid / partially refunded / refunded --charge.dispute.created--> disputed
    disputed --charge.dispute.closed--> back to paid / partially refunded / refunded

Every change locks the purchase row (`select_for_update`) and checks the
state it is in first, so a duplicated event finds its work done and returns,
and a reordered one either waits for its turn (it is retried) or carries
enough of Stripe's own state to apply in any order: a refund's amount only
ever rises (`max` of what is recorded and what Stripe says), and a refund
that arrives before the payment it refunds first records the payment from
the charge it carries. Emails go through the outbox under keys derived from
the purchase, inside the same transaction: one receipt, one refund email
per refund, whatever Stripe sends twice.
"""

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing import client
from billing.client import PaymentServiceError
from billing.models import ConnectAccount, Coupon, CouponRedemption, Purchase, Refund
from core.money import currency as currency_of
from core.money import format_money
from courses.models import Course, Enrollment
from courses.services import enrolment, holds, registration
from courses.services import invitations as course_invitations
from notifications import services as notifications
from notifications.models import Kind
from outbox import services as outbox

log = logging.getLogger(__name__)
Status = Purchase.Status

# Stripe's shortest Checkout Session; the seat is held a little longer than it lives.
CHECKOUT_MINUTES = 30
HOLD_SLACK = timedelta(minutes=5)
# A payment method that settles later (a bank debit) keeps its seat this long.
ASYNC_PAYMENT_HOLD = timedelta(days=14)
RETURN_SALT = "billing.purchase-return"


# --- Connect onboarding ----------------------------------------------------------------------


def connect_account_of(teacher: Any) -> ConnectAccount | None:
    return ConnectAccount.objects.filter(teacher_id=teacher.pk).first()


def start_onboarding(*, teacher: User, country: str) -> ConnectAccount:
    """Create the teacher's Express account once (or return it), ready for an Account Link."""
    existing = connect_account_of(teacher)
    if existing is not None:
        return existing
    created = client.create_express_account(
        country=country, email=teacher.email, idempotency_key=f"connect-account:{teacher.pk}"
    )
    account = ConnectAccount(teacher=teacher, stripe_account_id=created["id"], country=country)
    _mirror(account, created, at=timezone.now())
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:  # a second click won the race: its row stands
        return ConnectAccount.objects.get(teacher=teacher)
    return account


def onboarding_link(*, account: ConnectAccount, refresh_url: str, return_url: str) -> str:
    return client.create_account_link(
        account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def dashboard_link(*, account: ConnectAccount) -> str:
    return client.create_login_link(account.stripe_account_id)


def refresh_account(*, account: ConnectAccount) -> ConnectAccount:
    """Ask Stripe for the account's state now and mirror it."""
    fresh = client.retrieve_account(account.stripe_account_id)
    return apply_account_state(account_id=account.stripe_account_id, data=fresh, at=timezone.now())


@transaction.atomic
def apply_account_state(*, account_id: str, data: dict[str, Any], at: datetime) -> ConnectAccount:
    """Mirror an account object Stripe sent at `at`; an older state never overwrites a newer."""
    account = ConnectAccount.objects.select_for_update().get(stripe_account_id=account_id)
    if account.stripe_state_at is not None and at < account.stripe_state_at:
        return account
    _mirror(account, data, at=at)
    account.save()
    return account


def _mirror(account: ConnectAccount, data: dict[str, Any], *, at: datetime) -> None:
    requirements = data.get("requirements") or {}
    due = sorted(
        set(requirements.get("currently_due") or []) | set(requirements.get("past_due") or [])
    )
    profile = data.get("business_profile") or {}
    account.country = (data.get("country") or account.country or "")[:2]
    account.default_currency = (data.get("default_currency") or "").upper()[:3]
    account.business_name = (profile.get("name") or "")[:200]
    account.charges_enabled = bool(data.get("charges_enabled"))
    account.payouts_enabled = bool(data.get("payouts_enabled"))
    account.details_submitted = bool(data.get("details_submitted"))
    account.requirements_due = due
    account.disabled_reason = (requirements.get("disabled_reason") or "")[:100]
    # Stripe's event times are whole seconds: an event of the same second as our own
    # read is applied rather than taken for an older one.
    account.stripe_state_at = at.replace(microsecond=0)
    account.synced_at = timezone.now()


# --- Prices, fees and coupons ----------------------------------------------------------------


def platform_fee(amount: int) -> int:
    """The platform's fee on `amount` minor units, rounded half up to a whole minor unit."""
    percent = int(settings.PLATFORM_FEE_PERCENT)
    return (amount * percent * 2 + 100) // 200


@dataclass(frozen=True)
class Quote:
    """What a student pays for a course, with a coupon or without."""

    gross: int
    discount: int
    currency: str
    coupon: Coupon | None = None

    @property
    def amount(self) -> int:
        return self.gross - self.discount


class CouponError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def find_coupon(*, course: Course, code: str) -> Coupon:
    """Find the teacher's coupon `code` (any case) for `course`, or raise CouponError."""
    code = (code or "").strip()
    # Codes are unique per teacher whatever their case: at most one row matches.
    coupon = (
        Coupon.objects.filter(teacher_id=course.teacher_id, code__iexact=code).first()
        if code
        else None
    )
    if coupon is None:
        raise CouponError(f"“{code[:40]}” isn't a code for this course.")
    return coupon


def coupon_refusal(coupon: Coupon, course: Course, student: Any, at: datetime | None = None) -> str:
    """Say why `coupon` can't be used now by `student` on `course`, or '' when it can."""
    at = at or timezone.now()
    if not coupon.active:
        return "This code is no longer active."
    if coupon.course_id is not None and coupon.course_id != course.pk:
        return "This code isn't for this course."
    if coupon.starts_at and at < coupon.starts_at:
        return "This code isn't valid yet."
    if coupon.expires_at and at >= coupon.expires_at:
        return "This code has expired."
    if coupon.max_redemptions is not None and _uses(coupon) >= coupon.max_redemptions:
        return "This code has been used up."
    if coupon.amount_off is not None and coupon.currency != course.currency:
        return "This code is for another currency."
    if (
        coupon.once_per_student
        and student is not None
        and getattr(student, "pk", None)
        and CouponRedemption.objects.filter(coupon=coupon, student_id=student.pk).exists()
    ):
        return "You've used this code already."
    return ""


def _uses(coupon: Coupon) -> int:
    """Uses so far: redeemed, plus checkouts still open with it (each may yet be paid)."""
    open_checkouts = Purchase.objects.filter(
        coupon=coupon, status=Status.PENDING, expires_at__gt=timezone.now()
    ).count()
    return coupon.times_redeemed + open_checkouts


def quote(*, course: Course, code: str = "", student: Any = None) -> Quote:
    """Price `course` for `student`, applying `code`; raise CouponError for a code that can't."""
    gross = course.price_amount
    if not code.strip():
        return Quote(gross=gross, discount=0, currency=course.currency)
    coupon = find_coupon(course=course, code=code)
    refusal = coupon_refusal(coupon, course, student)
    if refusal:
        raise CouponError(refusal)
    return Quote(
        gross=gross, discount=discount_for(coupon, gross), currency=course.currency, coupon=coupon
    )


def discount_for(coupon: Coupon, gross: int) -> int:
    if coupon.percent_off is not None:
        discount = (gross * coupon.percent_off * 2 + 100) // 200
    else:
        discount = coupon.amount_off or 0
    step = currency_of(coupon.currency or "").step
    if step > 1 and discount < gross:
        discount = discount // step * step  # Stripe charges whole krónur only
    return min(gross, discount)


class CouponTakenError(Exception):
    pass


def save_coupon(*, teacher: User, coupon: Coupon | None, data: dict[str, Any]) -> Coupon:
    """Create or change one of the teacher's coupons from a cleaned `CouponForm`.

    Days are the teacher's own: a coupon valid until the 31st works until
    midnight at the end of the 31st where they live. Codes are unique per
    teacher whatever their case; a clash raises CouponTakenError.
    """
    zone = teacher_zone(teacher)
    starts, ends = data.get("starts_on"), data.get("ends_on")
    coupon = coupon or Coupon(teacher=teacher)
    coupon.code = data["code"]
    coupon.course = data.get("course_obj")
    coupon.percent_off = data.get("percent_off")
    coupon.amount_off = data.get("amount_off")
    coupon.currency = data.get("currency") or "" if coupon.amount_off is not None else ""
    coupon.starts_at = datetime.combine(starts, time.min, zone) if starts else None
    coupon.expires_at = datetime.combine(ends + timedelta(days=1), time.min, zone) if ends else None
    coupon.max_redemptions = data.get("max_redemptions")
    coupon.once_per_student = bool(data.get("once_per_student"))
    coupon.active = bool(data.get("active"))
    try:
        with transaction.atomic():
            coupon.save()
    except IntegrityError as error:
        raise CouponTakenError(f"You already have a code “{coupon.code}”.") from error
    return coupon


def teacher_zone(user: Any) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# --- Buying ----------------------------------------------------------------------------------


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
                application_fee_amount=platform_fee(price.amount),
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


def _enrollment_of(purchase: Purchase) -> Enrollment | None:
    if purchase.course_id is None or purchase.student_id is None:
        return None
    return Enrollment.objects.filter(
        course_id=purchase.course_id, student_id=purchase.student_id
    ).first()


# --- Payment outcomes (webhooks, the return page, reconciliation) ----------------------------


def _lock(purchase_id: int) -> Purchase | None:
    return (
        # Only the purchase's own row is locked: its course and people may be gone (outer joins).
        Purchase.objects.select_for_update(of=("self",))
        .select_related("course", "student", "teacher")
        .filter(pk=purchase_id)
        .first()
    )


def purchase_id_in(obj: dict[str, Any]) -> int | None:
    """Read our purchase id from a Stripe object's metadata or client reference."""
    metadata = obj.get("metadata") or {}
    raw = metadata.get("purchase_id") or obj.get("client_reference_id") or ""
    return int(raw) if str(raw).isdigit() else None


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


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


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


# --- Refunds and disputes --------------------------------------------------------------------


class RefundRefusedError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refund(*, purchase: Purchase, amount: int, keep_access: bool, reason: str = "") -> Refund:
    """Refund `amount` of a paid purchase through Stripe, as the teacher asked.

    The refund row is written first under its own key (also Stripe's
    idempotency key), so a form sent twice makes one refund. The purchase's
    state follows from what Stripe answers, as it would from the webhook.
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
        locked.keep_access_on_refund = keep_access
        locked.save(update_fields=["keep_access_on_refund", "updated_at"])
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
    _apply_refunded(
        purchase, charge.get("amount_refunded") or 0, end_access=not purchase.keep_access_on_refund
    )
    return purchase


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


def stripe_time(seconds: int | None) -> datetime:
    return datetime.fromtimestamp(seconds or 0, tz=UTC)
