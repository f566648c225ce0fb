"""Prices, the platform's fee and coupons: what a student pays for a course.

Amounts are integer minor units (`core.money`). A coupon's days are its
teacher's own (`teacher_zone`); its uses count checkouts still open with it.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from billing.models import Coupon, CouponRedemption, Plan, Purchase
from core.money import currency as currency_of
from courses.models import Course

Status = Purchase.Status


def platform_fee(amount: int, plan: Plan) -> int:
    """The platform's fee on `amount` minor units under the teacher's `plan`.

    The plan's percent may have decimals (2.5%); the fee is rounded half up to
    a whole minor unit. `billing.services.plans.plan_of` finds a teacher's plan.
    """
    fee = Decimal(amount) * plan.platform_fee_percent / 100
    return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
