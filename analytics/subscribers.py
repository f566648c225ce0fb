"""What analytics hears from below: new accounts, enrolments and purchases.

Plugged in by `AnalyticsConfig.ready`. Each handler is quick: it reads a row
or two and adds to a counter.
"""

import logging
from typing import Any

from django.db.models.signals import post_save

from accounts.models import User
from analytics import counters, current, services
from analytics.models import Attribution
from billing import signals as billing_signals
from billing.models import Purchase
from courses import events
from courses.models import Enrollment

log = logging.getLogger(__name__)


def _source(user_id: int | None) -> tuple[str, str]:
    """Return (utm source, referring site): the current visit's, else the person's first."""
    visit = current.visit()
    if visit is not None and visit.tracked and visit.known:
        return visit.utm_source, visit.referrer_domain
    if visit is not None and not visit.tracked:
        return "", ""
    found = (
        Attribution.objects.filter(user_id=user_id)
        .values_list("utm_source", "referrer_domain")
        .first()
        if user_id
        else None
    )
    return found or ("", "")


def account_created(
    sender: Any, instance: User, created: bool, raw: bool = False, **_: Any
) -> None:
    """Note a new account made during a request, and keep where its person came from."""
    state = current.state()
    if not created or raw or state is None:
        return
    state.new_user_ids.append(instance.pk)
    services.record_attribution(instance, state.visit)


def enrolled(event: events.Enrolled) -> None:
    row = (
        Enrollment.objects.filter(pk=event.enrollment_id)
        .values_list("course_id", "student_id")
        .first()
    )
    if row is None:
        return
    course_id, student_id = row
    source, referrer = _source(student_id)
    counters.record(counters.Hit(counters.ENROLMENT, f"#{course_id}", source, referrer))


def purchase_paid(sender: Any, purchase: Purchase, **_: Any) -> None:
    if purchase.course_id is None:
        return
    source, referrer = _source(purchase.student_id)
    counters.record(counters.Hit(counters.PURCHASE, f"#{purchase.course_id}", source, referrer))


def connect() -> None:
    post_save.connect(account_created, sender=User, dispatch_uid="analytics.account_created")
    events.subscribe(events.Enrolled, enrolled)
    billing_signals.purchase_paid.connect(purchase_paid, dispatch_uid="analytics.purchase_paid")
