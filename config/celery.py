"""The Celery application and the one list of periodic jobs.

Tasks are written to be idempotent (they claim work with conditional updates
and rely on unique constraints), so a message is acknowledged only once the
task has finished and is redelivered if the worker dies mid-way: at once when
a pool process dies under a live worker (`task_reject_on_worker_lost`), after
the broker's visibility timeout (`CELERY_BROKER_TRANSPORT_OPTIONS` in the
settings, `CELERY_VISIBILITY_TIMEOUT` in the environment) when the whole
worker is gone. The one exception is the AI answer, which is paid for and
is never run twice (`ai.tasks`). tests/faults/test_worker_killed.py kills
workers in the middle of each kind of task.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lectern")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)
app.conf.beat_schedule = {
    # Contacts: people who asked to hear when a full or not-yet-open course opens are told
    # once, within ten minutes of a seat coming free.
    "crm-tell-leads": {
        "task": "crm.tasks.tell_leads_task",
        "schedule": crontab(minute="*/10"),
    },
    # Outgoing email: retries whose back-off has passed, and emails whose task was lost (the
    # broker was down when they were queued, or their worker died). Every minute.
    "requeue-due-emails": {
        "task": "outbox.tasks.requeue_due_emails_task",
        "schedule": crontab(),
    },
    # Retention, including starting account erasures whose cooling-off has ended: every
    # quarter hour, so a due deletion starts within the hour.
    "sweep-retention": {
        "task": "privacy.tasks.sweep_retention_task",
        "schedule": crontab(minute="7,22,37,52"),
    },
    # Seats held for a visitor's confirmation or a payment: a lapsed hold stops counting at
    # once; the sweep records it and gives the seat to the waitlist within five minutes.
    "expire-enrolment-holds": {
        "task": "courses.tasks.expire_holds_task",
        "schedule": crontab(minute="*/5"),
    },
    # Notifications: due-soon reminders, emails held for quiet hours or a retry, and the
    # daily digests (each person's digest hour is in their own time zone, so it runs often).
    "notify-due-soon": {
        "task": "notifications.tasks.notify_due_soon_task",
        "schedule": crontab(minute="*/15"),
    },
    "send-held-notification-emails": {
        "task": "notifications.tasks.send_held_emails_task",
        "schedule": crontab(minute="*/5"),
    },
    # Payments: Stripe events whose processing failed or whose worker vanished, every minute;
    # purchases pending for 15 minutes and accounts not heard of for a day are checked with
    # Stripe every ten, repairing what a lost webhook left behind.
    "requeue-stripe-events": {
        "task": "billing.tasks.requeue_stripe_events_task",
        "schedule": crontab(),
    },
    # Live classes: LiveKit events whose processing failed or whose worker vanished.
    "requeue-livekit-events": {
        "task": "live.tasks.requeue_livekit_events_task",
        "schedule": crontab(),
    },
    # Live rooms past their session (plus the join grace) with someone still open, or never
    # compared with LiveKit's participant list: the list closes what lost webhooks left open.
    "reconcile-live-rooms": {
        "task": "live.tasks.reconcile_live_rooms_task",
        "schedule": crontab(minute="*/10"),
    },
    "reconcile-payments": {
        "task": "billing.tasks.reconcile_payments_task",
        "schedule": crontab(minute="*/10"),
    },
    # Plan caps: every teacher's active students against their plan, graces that ended and
    # reminders two days before they end, every quarter hour (evaluated at each sale too).
    "evaluate-plan-caps": {
        "task": "billing.tasks.evaluate_plan_caps_task",
        "schedule": crontab(minute="4,19,34,49"),
    },
    # Fraud signals: payment links outside Lectern in content changed since the last scan, every
    # five minutes; coupon and refund rates, hourly.
    "scan-payment-links": {
        "task": "billing.tasks.scan_payment_links_task",
        "schedule": crontab(minute="*/5"),
    },
    "check-coupon-rates": {
        "task": "billing.tasks.check_coupon_rates_task",
        "schedule": crontab(minute=41),
    },
    "check-refund-rates": {
        "task": "billing.tasks.check_refund_rates_task",
        "schedule": crontab(minute=46),
    },
    # Storefront analytics: views, clicks and conversions counted in Redis become daily rows.
    "flush-storefront-analytics": {
        "task": "analytics.tasks.flush_counters_task",
        "schedule": crontab(),
    },
    "send-notification-digests": {
        "task": "notifications.tasks.send_digests_task",
        "schedule": crontab(minute="3,18,33,48"),
    },
}
app.autodiscover_tasks()
