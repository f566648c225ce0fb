"""The Celery application and the one list of periodic jobs.

Tasks are written to be idempotent (they claim work with conditional updates
and rely on unique constraints), so a message is acknowledged only once the
task has finished and is redelivered if the worker dies mid-way.
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
    "sweep-retention": {
        "task": "privacy.tasks.sweep_retention_task",
        "schedule": crontab(minute=17, hour="*/6"),
    },
}
app.autodiscover_tasks()
