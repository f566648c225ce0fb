"""What the billing services share: a purchase found and locked, its seat, links, Stripe's times."""

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from billing.models import Purchase
from courses.models import Enrollment

# Stripe's shortest Checkout Session: a checkout, and the purchase it pays, lives this long.
CHECKOUT_MINUTES = 30


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


def _enrollment_of(purchase: Purchase) -> Enrollment | None:
    if purchase.course_id is None or purchase.student_id is None:
        return None
    return Enrollment.objects.filter(
        course_id=purchase.course_id, student_id=purchase.student_id
    ).first()


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def stripe_time(seconds: int | None) -> datetime:
    return datetime.fromtimestamp(seconds or 0, tz=UTC)
