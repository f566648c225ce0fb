import logging

from celery import shared_task

from live import reconcile, webhooks

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_livekit_event_task(event_id: str) -> str:
    """Process one stored LiveKit event; running it twice does nothing more."""
    return webhooks.process(event_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def drain_livekit_events_task() -> int:
    """Process every stored LiveKit event that is due, in LiveKit's order (see outbox.inbox)."""
    return webhooks.drain()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_livekit_events_task() -> int:
    """Enqueue the events a failure or a lost worker left behind."""
    ids = webhooks.due_event_ids()
    for event_id in ids:
        try:
            process_livekit_event_task.delay(event_id)
        except Exception:
            logger.exception("Couldn't enqueue LiveKit event %s; the next run will", event_id)
    return len(ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reconcile_room_task(room_id: int) -> str:
    """Compare one room with LiveKit's participant list; running it twice changes nothing more."""
    return reconcile.reconcile_room(room_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reconcile_live_rooms_task() -> int:
    """Reconcile rooms past their session that never reported finishing, or were never checked."""
    return reconcile.reconcile_due()
