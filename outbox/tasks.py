"""Celery tasks of the outbox: deliver one email, and enqueue what is due."""

import logging

from celery import Task, shared_task

from outbox import delivery

logger = logging.getLogger(__name__)

# Longer waits are left to the periodic job: a message held by Redis for longer than its
# visibility timeout (CELERY_VISIBILITY_TIMEOUT, two hours) would be delivered twice, and it
# sits in a worker's memory meanwhile.
MAX_COUNTDOWN = 10 * 60


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_email_task(self: Task, email_id: int) -> str:
    """Send one queued email once; after a failure, retry when its back-off has passed.

    The row bounds the attempts, so the task itself may retry without limit.
    Run inline (no broker), or after a back-off longer than `MAX_COUNTDOWN`,
    it neither retries nor raises: the periodic job takes the row up again
    when it is due.
    """
    outcome = delivery.deliver_email(email_id)
    retry_in = outcome.retry_in
    if retry_in is not None and retry_in <= MAX_COUNTDOWN and not self.request.is_eager:
        raise self.retry(countdown=retry_in)
    return outcome.state


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_due_emails_task() -> int:
    """Enqueue every email whose attempt is due or whose sender vanished; return how many."""
    ids = delivery.due_email_ids()
    for email_id in ids:
        # One at a time: a broker hiccup, or (inline) one failing send, never stops the rest.
        try:
            deliver_email_task.delay(email_id)
        except Exception:
            logger.exception("could not enqueue an email", extra={"email_id": email_id})
    return len(ids)
