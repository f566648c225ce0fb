import logging

from celery import shared_task

from privacy import deletion, export, retention

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_retention_task() -> dict[str, int]:
    """Run every retention rule the registry declares, in batches; safe to run twice."""
    return retention.sweep_all()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_export_task(export_id: int) -> None:
    """Build one "Download my data" ZIP; a redelivered or repeated run finishes it once."""
    export.build(export_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def erase_account_task(request_id: int) -> None:
    """Erase one account whose cooling-off has ended; resumes where a killed run stopped."""
    deletion.erase(request_id)
