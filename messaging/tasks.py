"""Celery tasks for messaging; each is safe to run twice."""

from celery import shared_task

from messaging import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def notify_unread_message_task(message_id: int) -> int:
    """Notify the members who still haven't read a message, some minutes after it was posted.

    Scheduled with a countdown (MESSAGE_NOTIFY_DELAY_MINUTES); when tasks run
    inline (no broker configured) it runs at once instead. Running it twice
    notifies nobody twice: each notification's dedupe key is fixed by the
    recipient's read pointer.
    """
    return services.notify_unread_message(message_id=message_id)
