from celery import shared_task

from courses.services import holds


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_holds_task() -> int:
    """Release every held seat whose time is up and promote the waitlist; safe to run twice."""
    return holds.expire_holds()
