"""Celery tasks of billing: process a Stripe event, and the sweeps that repair what was lost."""

import logging

from celery import Task, shared_task

from billing import reconcile, webhooks
from billing.services import caps, fraud

logger = logging.getLogger(__name__)

# Longer waits are left to the periodic job (see outbox.tasks).
MAX_COUNTDOWN = 10 * 60


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def process_stripe_event_task(self: Task, event_id: str) -> str:
    """Process one stored Stripe event; after a failure, retry when its back-off has passed."""
    outcome = webhooks.process(event_id)
    if (
        outcome.retry_in is not None
        and outcome.retry_in <= MAX_COUNTDOWN
        and not self.request.is_eager
    ):
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def drain_stripe_events_task() -> int:
    """Process every stored Stripe event that is due, oldest first (see billing.webhooks)."""
    return webhooks.drain()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_stripe_events_task() -> int:
    """Enqueue every stored event whose attempt is due or whose worker vanished."""
    ids = webhooks.due_event_ids()
    for event_id in ids:
        try:
            process_stripe_event_task.delay(event_id)
        except Exception:
            logger.exception("Couldn't enqueue Stripe event %s; the next run will", event_id)
    return len(ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reconcile_payments_task() -> dict[str, int]:
    """Ask Stripe about purchases pending too long and accounts not heard of for a day."""
    return reconcile.run()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_plan_caps_task() -> dict[str, int]:
    """Evaluate every teacher's plan-cap state: counts, grace endings and reminders."""
    return caps.evaluate_all()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def scan_payment_links_task() -> int:
    """Look for off-platform payment links in content changed since the last scan."""
    return fraud.scan_payment_links()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_coupon_rates_task() -> int:
    """Raise signals on teachers whose recent paid enrolments mostly used deep discounts."""
    return fraud.check_coupon_rates()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_refund_rates_task() -> int:
    """Raise signals on teachers whose recent sales were refunded or disputed unusually often."""
    return fraud.check_refund_rates()
