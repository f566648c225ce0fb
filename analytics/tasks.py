"""The flush of storefront counters into daily rows: every minute (Celery beat or run_periodic).

In the embedded default the counters live in the web process's memory, which
the separate periodic process cannot reach, so the web process also flushes
its own after a request has finished, at most once a `ANALYTICS_LOCAL_FLUSH_SECONDS`
and never inside a transaction it would join (a test's, say).
"""

import logging
from typing import Any

from celery import shared_task
from django.core.signals import request_finished
from django.db import connection

from analytics import services
from core import cache as shared_cache

log = logging.getLogger(__name__)


@shared_task
def flush_counters_task() -> int:
    """Move the counted views, clicks and conversions into `CourseDay`; return the rows touched."""
    return services.flush_counters().rows


def _flush_local_after_request(sender: Any, **_: Any) -> None:
    if shared_cache.is_shared() or connection.in_atomic_block or not services.local_flush_due():
        return
    try:
        services.flush_counters()
    except Exception:
        log.exception("analytics.local_flush_failed")


def connect_local_flush() -> None:
    request_finished.connect(_flush_local_after_request, dispatch_uid="analytics.local_flush")
