"""Stripe's webhook events: stored once, then processed by a task, in any order, any times.

1. The view verifies the signature with the SDK (`billing.client.verify_event`);
   `receive` inserts a `StripeEvent` under its unique event id in one
   `INSERT … ON CONFLICT DO NOTHING` that commits on its own: once Stripe
   hears 200 the event is on disk. A duplicate inserts nothing, reads nothing
   back and is answered 200 like the first.
2. Once it is stored, the processor is woken: `drain_task` runs every stored
   event that is due, oldest first. A burst of events wakes it once, not once
   per event: the first event sets a flag in the cache and enqueues the task,
   later ones find the flag up; the task lowers the flag before it looks for
   events, so an event stored after it looked wakes it again. Publishing a
   Celery message per event cost more than storing the event, and asking Redis
   about the flag for every event cost a third of storing it, so a web
   process that found the processor woken doesn't ask again for `QUIET`
   seconds. To see the events such a process stores without asking, the task
   keeps looking for `LINGER` (longer than `QUIET`) after lowering the flag,
   and stops only after a look that found nothing once that time has passed.
   With tasks run inline (no broker) every event asks and nothing lingers.
3. `process(event_id)` claims the row with a conditional update (pending and
   due, or processing with a lease that ran out → processing), dispatches by
   type to `billing.services`, and records done, or the error and the next
   attempt. Handlers lock the rows they change and check their state first,
   so a second delivery finds its work done, and compare Stripe's own
   timestamps and amounts, never arrival order.
4. A periodic job enqueues rows whose attempt is due or whose worker vanished
   (a lost wake-up included). Staff can replay any event from the admin.

Types Lectern doesn't act on (`payment_intent.created`, `transfer.created`,
`application_fee.created`...) are stored and marked done.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone

from billing.client import PaymentServiceError
from billing.models import ConnectAccount, StripeEvent
from billing.services import common, connect, fraud, outcomes, refunds, subscription_mirror
from core import db, jobs
from outbox import services as outbox

log = logging.getLogger(__name__)

PROCESS_TASK = "billing.tasks.process_stripe_event_task"
DRAIN_TASK = "billing.tasks.drain_stripe_events_task"
WAKE_KEY = "billing:stripe-events:wake"
# A wake-up whose task was lost is retried after this long by the next event (the
# periodic job picks the events up anyway).
WAKE_SECONDS = 30
# How long a web process that found the processor woken skips asking again, and how
# long the processor keeps looking after lowering the flag (see 2. above).
QUIET = 1.0
LINGER = QUIET + 0.5
LOOK_EVERY = 0.2
# A drain that found events for this long hands over to a fresh task.
DRAIN_SECONDS = 20
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(hours=3)


def receive(*, event: dict[str, Any], body: str, source: str) -> bool:
    """Store a verified event once and wake the processor; False if it was stored already.

    `body` is the event as Stripe sent it (`event` is what it parses to): it is
    stored as received rather than written out again.
    """
    stored = db.insert_unless_present(
        StripeEvent,
        "event_id",
        {
            "event_id": event["id"],
            "type": event.get("type") or "",
            "source": source,
            "account": event.get("account") or "",
            "livemode": bool(event.get("livemode")),
            "stripe_created_at": common.stripe_time(event.get("created")),
            "payload": db.JsonText(body),
        },
    )
    if stored:
        wake_processor()
    return stored


_quiet_until = 0.0  # this process's: until when it knows the processor is woken


def wake_processor() -> None:
    """Enqueue `drain_task` once the stored event commits, unless it is woken already."""
    global _quiet_until
    inline = jobs.run_inline()
    if not inline and time.monotonic() < _quiet_until:
        return
    if cache.add(WAKE_KEY, 1, timeout=WAKE_SECONDS):
        outbox.enqueue_task_on_commit(jobs.task(DRAIN_TASK))
    if not inline:
        _quiet_until = time.monotonic() + QUIET


def drain(limit: int = 500) -> int:
    """Process every stored event that is due, oldest first; return how many were run.

    A full batch, or a drain that has run `DRAIN_SECONDS`, hands over to a
    fresh task, queued behind the receipts and notifications its events
    queued, so they never wait for a long burst to end.
    """
    cache.delete(WAKE_KEY)  # before looking: an event stored from now on wakes us again
    lowered = time.monotonic()
    linger = 0.0 if jobs.run_inline() else LINGER
    ran = 0
    while True:
        ids = due_event_ids(limit)
        for event_id in ids:
            process(event_id)
        ran += len(ids)
        elapsed = time.monotonic() - lowered
        if len(ids) == limit or elapsed > DRAIN_SECONDS:
            if cache.add(WAKE_KEY, 1, timeout=WAKE_SECONDS):
                outbox.enqueue_task_on_commit(jobs.task(DRAIN_TASK))
            return ran
        if not ids:
            if elapsed >= linger:
                return ran
            time.sleep(min(LOOK_EVERY, linger - elapsed))


# --- Processing ------------------------------------------------------------------------------


def _account_updated(event: StripeEvent, obj: dict[str, Any]) -> None:
    if ConnectAccount.objects.filter(stripe_account_id=obj["id"]).exists():
        connect.apply_account_state(account_id=obj["id"], data=obj, at=event.stripe_created_at)


def _session_completed(event: StripeEvent, obj: dict[str, Any]) -> None:
    if obj.get("mode") == "subscription":  # a teacher subscribing to a plan
        subscription_mirror.checkout_completed(session=obj)
    else:
        outcomes.session_completed(session=obj)


def _async_failed(event: StripeEvent, obj: dict[str, Any]) -> None:
    outcomes.payment_failed(session=obj)


def _session_expired(event: StripeEvent, obj: dict[str, Any]) -> None:
    outcomes.session_expired(session=obj)


def _charge_refunded(event: StripeEvent, obj: dict[str, Any]) -> None:
    refunds.charge_refunded(charge=obj)


def _refund(event: StripeEvent, obj: dict[str, Any]) -> None:
    refunds.refund_updated(refund=obj)


def _dispute_created(event: StripeEvent, obj: dict[str, Any]) -> None:
    refunds.dispute_opened(dispute=obj)


def _dispute_closed(event: StripeEvent, obj: dict[str, Any]) -> None:
    refunds.dispute_closed(dispute=obj)


def _card_failed(event: StripeEvent, obj: dict[str, Any]) -> None:
    # A declined card while the session stays open (the buyer may retry): counted for card
    # testing, not an end to the purchase.
    fraud.record_card_failure(payment=obj, event_id=event.event_id, at=event.stripe_created_at)


def _subscription(event: StripeEvent, obj: dict[str, Any]) -> None:
    subscription_mirror.apply_subscription(data=obj, at=event.stripe_created_at)


def _schedule(event: StripeEvent, obj: dict[str, Any]) -> None:
    subscription_mirror.schedule_changed(data=obj)


def _invoice(event: StripeEvent, obj: dict[str, Any]) -> None:
    failed = event.type == "invoice.payment_failed"
    subscription_mirror.apply_invoice(data=obj, at=event.stripe_created_at, failed=failed)


def _customer(event: StripeEvent, obj: dict[str, Any]) -> None:
    subscription_mirror.customer_changed(customer_id=obj["id"], at=event.stripe_created_at)


def _card(event: StripeEvent, obj: dict[str, Any]) -> None:
    subscription_mirror.card_changed(data=obj, at=event.stripe_created_at)


PLAN_EVENTS: dict[str, Callable[[StripeEvent, dict[str, Any]], None]] = {
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "customer.subscription.paused": _subscription,
    "customer.subscription.resumed": _subscription,
    "subscription_schedule.created": _schedule,
    "subscription_schedule.updated": _schedule,
    "subscription_schedule.released": _schedule,
    "subscription_schedule.canceled": _schedule,
    "subscription_schedule.completed": _schedule,
    "subscription_schedule.aborted": _schedule,
    "invoice.created": _invoice,
    "invoice.finalized": _invoice,
    "invoice.updated": _invoice,
    "invoice.paid": _invoice,
    "invoice.payment_succeeded": _invoice,
    "invoice.payment_failed": _invoice,
    "invoice.voided": _invoice,
    "invoice.marked_uncollectible": _invoice,
    "customer.updated": _customer,
    "payment_method.attached": _card,
    "payment_method.updated": _card,
    "payment_method.automatically_updated": _card,
    "payment_method.detached": _card,
}

HANDLERS: dict[str, Callable[[StripeEvent, dict[str, Any]], None]] = {
    "account.updated": _account_updated,
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "checkout.session.async_payment_failed": _async_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund,
    "refund.updated": _refund,
    "charge.refund.updated": _refund,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
    **PLAN_EVENTS,
    "charge.failed": _card_failed,
    "payment_intent.payment_failed": _card_failed,
}


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: int | None = None  # seconds until the next attempt, after a failure


def process(event_id: str) -> Outcome:
    """Claim the event, run its handler and record how it went."""
    now = timezone.now()
    claimable = Q(status=StripeEvent.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=StripeEvent.Status.PROCESSING, lease_until__lt=now
    )
    claimed = StripeEvent.objects.filter(claimable, event_id=event_id).update(
        status=StripeEvent.Status.PROCESSING,
        lease_until=now + LEASE,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return Outcome("skipped")
    event = StripeEvent.objects.get(event_id=event_id)
    attempt = event.attempts
    handler = HANDLERS.get(event.type)
    obj = (event.payload.get("data") or {}).get("object") or {}
    try:
        if handler is not None:
            handler(event, obj)
    except Exception as error:  # recorded on the row and retried; nothing is lost
        if not isinstance(error, PaymentServiceError):
            log.exception("Stripe event %s (%s) failed", event.event_id, event.type)
        return _record_failure(event, attempt, error)
    StripeEvent.objects.filter(event_id=event_id, attempts=attempt).update(
        status=StripeEvent.Status.DONE,
        processed_at=timezone.now(),
        lease_until=None,
        last_error="",
    )
    return Outcome("done")


def _record_failure(event: StripeEvent, attempt: int, error: Exception) -> Outcome:
    wait = min(MAX_BACKOFF, timedelta(minutes=2 ** (attempt - 1)))
    gave_up = attempt >= MAX_ATTEMPTS
    StripeEvent.objects.filter(pk=event.pk, attempts=attempt).update(
        status=StripeEvent.Status.FAILED if gave_up else StripeEvent.Status.PENDING,
        next_attempt_at=timezone.now() + wait,
        lease_until=None,
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )
    if gave_up:
        return Outcome("failed")
    return Outcome("pending", retry_in=int(wait.total_seconds()))


def due_event_ids(limit: int = 500) -> list[str]:
    """Events whose attempt is due, or whose worker vanished mid-way."""
    now = timezone.now()
    due = Q(status=StripeEvent.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=StripeEvent.Status.PROCESSING, lease_until__lt=now
    )
    return list(
        StripeEvent.objects.filter(due)
        .order_by("stripe_created_at")
        .values_list("event_id", flat=True)[:limit]
    )


def replay(*, events: Any) -> int:
    """Process these events again (staff, from the admin): handlers are safe to repeat."""
    ids = list(events.values_list("event_id", flat=True))
    StripeEvent.objects.filter(event_id__in=ids).exclude(
        status=StripeEvent.Status.PROCESSING
    ).update(status=StripeEvent.Status.PENDING, next_attempt_at=timezone.now(), attempts=0)
    for event_id in ids:
        outbox.enqueue_task_on_commit(jobs.task(PROCESS_TASK), event_id)
    return len(ids)
