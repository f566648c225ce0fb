"""Celery tasks for notifications; each is safe to run twice (see `delivery`)."""

from celery import shared_task

from notifications import delivery, events, reminders


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_notification_email_task(notification_id: int) -> bool:
    """Send one notification's immediate email unless it was sent or claimed already."""
    return delivery.send_notification_email(notification_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_held_emails_task() -> int:
    """Send immediate emails whose quiet hours or back-off ended, and abandoned claims."""
    return delivery.send_held_emails()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_digests_task() -> int:
    """Send the daily digest to everyone whose digest hour has come."""
    return delivery.send_due_digests()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def notify_due_soon_task() -> int:
    """Remind students of assignments due within 24 hours that they have not submitted."""
    return reminders.notify_due_soon()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def notify_course_event_task(event: str, object_id: int) -> int:
    """Create the notifications for one course event (see `events`)."""
    return events.handle(event, object_id)
