"""Which plan a teacher is on, and where they stand against its limits.

A teacher's plan is the plan of their live subscription: trialing, active, or
past due (Stripe is retrying a failed payment, and the plan is kept meanwhile).
Without one they are on the Free plan. Nothing is deleted when a subscription
ends: the teacher is simply held to Free's limits from then on.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import metering
from billing.models import ActiveStudent, Plan, Subscription
from files import services as files

# A student counts as active for 30 days after a paid enrolment.
ACTIVE_DAYS = 30
MB = 1024 * 1024
# The Free plan as migration 0004 makes it.
FREE_DEFAULTS: dict[str, Any] = {
    "code": "free",
    "name": "Free",
    "tagline": "Everything you need to start teaching.",
    "position": 0,
    "is_free": True,
    "max_active_students": 10,
    "ai_units_per_month": 50,
    "storage_mb": 1024,
    "live_minutes_per_month": 300,
    "platform_fee_percent": Decimal("5"),
}


def free_plan() -> Plan:
    """The plan of every teacher without a paid subscription.

    Migration 0004 makes it and the admin can't delete it. A database that lost
    it all the same (emptied by hand, or between tests) gets it back with the
    default limits: every teacher must stand on some plan.
    """
    plan = Plan.objects.filter(is_free=True).first()
    if plan is not None:
        return plan
    try:
        with transaction.atomic():
            return Plan.objects.create(**FREE_DEFAULTS)
    except IntegrityError:  # made meanwhile by another request
        return Plan.objects.get(is_free=True)


def live_subscription(teacher: Any) -> Subscription | None:
    """The teacher's subscription that sets their plan, or None.

    Should a teacher ever hold two live subscriptions (two checkouts paid in
    two windows), the more generous plan counts.
    """
    return (
        Subscription.objects.filter(teacher_id=teacher.pk, status__in=Subscription.LIVE)
        .select_related("plan", "price", "pending_plan", "pending_price")
        .order_by("-plan__position", "-created_at")
        .first()
    )


def plan_of(teacher: Any) -> Plan:
    """The plan whose limits and fee apply to `teacher` now."""
    subscription = live_subscription(teacher)
    return subscription.plan if subscription is not None else free_plan()


def storage_quota(teacher: Any) -> int | None:
    """Bytes the teacher's files may take on their plan (`files.quotas`); None: no limit."""
    storage_mb = plan_of(teacher).storage_mb
    return storage_mb * MB if storage_mb is not None else None


def active_students(teacher: Any) -> int:
    """Students with a paid enrolment with `teacher` in the last 30 days."""
    since = timezone.now() - timedelta(days=ACTIVE_DAYS)
    return ActiveStudent.objects.filter(teacher_id=teacher.pk, last_paid_at__gte=since).count()


@dataclass(frozen=True)
class Usage:
    """One of a plan's limits and how much of it the teacher uses; `limit` None: no limit."""

    key: str
    label: str
    used: int
    limit: int | None
    unit: str = ""
    note: str = ""

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, self.used * 100 // self.limit)

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit

    @property
    def near(self) -> bool:
        return self.limit is not None and not self.over and self.percent >= 80


def usage_of(teacher: Any, plan: Plan) -> list[Usage]:
    """Each of `plan`'s limits with what `teacher` uses of it.

    Monthly allowances (AI units, live minutes) count from the first of this
    month, in UTC, through the features' meters (`billing.metering`); a
    feature this server doesn't have shows nothing used, and says so.
    """
    month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return [
        Usage(
            "students",
            "Active students",
            active_students(teacher),
            plan.max_active_students,
            note="Students with a paid enrolment in the last 30 days.",
        ),
        Usage(
            "storage",
            "Storage",
            files.storage_used(teacher),
            plan.storage_mb * MB if plan.storage_mb is not None else None,
            unit="bytes",
            note="Course files and message attachments you uploaded.",
        ),
        Usage(
            "ai",
            "AI units this month",
            metering.used("ai", teacher, month_start),
            plan.ai_units_per_month,
            note=(
                "Resets on the first of each month."
                if metering.is_metered("ai")
                else "AI features aren't available on this server yet, so nothing is counted."
            ),
        ),
        Usage(
            "live",
            "Live participant-minutes this month",
            metering.used("live", teacher, month_start),
            plan.live_minutes_per_month,
            note=(
                "Everyone's minutes in your live classes, you included. Resets on the first of "
                "each month."
                if metering.is_metered("live")
                else "Live classes aren't available on this server, so nothing is counted."
            ),
        ),
    ]


def is_upgrade(current: Plan, target: Plan) -> bool:
    """Moving to `target` gives more (a later plan in the catalogue's order)."""
    return target.position > current.position
