import logging

from celery import shared_task

from privacy import retention

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_retention_task() -> dict[str, int]:
    """Run every retention sweep the registry declares; safe to run twice."""
    return retention.sweep_all()
