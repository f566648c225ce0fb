"""Webhook inboxes: events stored once as they arrive, then processed in the background.

Stripe and LiveKit both send webhooks that may come late, twice or out of
order, and both must be answered fast and never lost. Each app keeps its
events in a model built on `InboxEvent` and describes its inbox once:

    STRIPE = Inbox(model=StripeEvent, name="billing:stripe-events",
                   process_task="billing.tasks.process_stripe_event_task",
                   drain_task="billing.tasks.drain_stripe_events_task",
                   apply=dispatch, order_by=("stripe_created_at",))

1. `store(fields)` inserts the event under its unique `event_id` in one
   `INSERT … ON CONFLICT DO NOTHING` that commits on its own: once the sender
   hears 200 the event is on disk. A duplicate inserts nothing, reads nothing
   back and is answered like the first.
2. Once it is stored, the processor is woken: the drain task runs every
   stored event that is due, in `order_by`. A burst of events wakes it once,
   not once per event: the first event sets a flag in the cache and enqueues
   the task, later ones find the flag up; the task lowers the flag before it
   looks for events, so an event stored after it looked wakes it again.
   Publishing a Celery message per event cost more than storing the event,
   and asking Redis about the flag for every event cost a third of storing
   it, so a web process that found the processor woken doesn't ask again for
   `QUIET` seconds. To see the events such a process stores without asking,
   the task keeps looking for `LINGER` (longer than `QUIET`) after lowering
   the flag, and stops only after a look that found nothing once that time
   has passed. With tasks run inline (no broker) every event asks and nothing
   lingers.
3. `process(event_id)` claims the row with a conditional update (pending and
   due, or processing with a lease that ran out → processing), so a second
   worker finds nothing to do; it then calls the app's `apply` and records
   done, or the error and the next attempt, backing off up to `MAX_BACKOFF`
   and giving up (FAILED) after `max_attempts`.
4. A periodic job enqueues the process task for each of `due_ids()`:
   attempts that are due, workers that vanished, wake-ups that were lost.
   Staff can `replay` events from the admin.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from core import db, jobs
from outbox import services as outbox

log = logging.getLogger(__name__)

# A wake-up whose task was lost is retried after this long by the next event (the
# periodic job picks the events up anyway).
WAKE_SECONDS = 30
# How long a web process that found the processor woken skips asking again, and how
# long the processor keeps looking after lowering the flag (see 2. above).
QUIET = 1.0
LINGER = QUIET + 0.5
LOOK_EVERY = 0.2
# A drain that found events for this long hands over to a fresh task.
DRAIN_SECONDS = 20
LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=3)


class InboxEvent(models.Model):
    """What every stored webhook event carries to be processed once, whatever happens.

    Defaults the database fills in too: `store` sends only what the event says.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    event_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.PENDING,
        db_default=Status.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0, db_default=0)
    # While a worker holds the event; past it, the worker is taken to have vanished.
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=now, db_default=Now())
    last_error = models.TextField(blank=True, default="", db_default="")
    received_at = models.DateTimeField(default=now, db_default=Now(), editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-received_at"]


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: int | None = None  # seconds until the next attempt, after a failure
    error: str = ""


@dataclass
class Inbox:
    """One app's webhook events: how they are stored, woken, claimed, applied and retried."""

    model: type[InboxEvent]
    # Names the wake flag in the cache, and the events in log lines.
    name: str
    # The app's tasks: one event (retries, replays) and every due event (wake-ups).
    process_task: str
    drain_task: str
    # Applies one claimed event; raising records the error for a later attempt.
    apply: Callable[[Any], None]
    # The order due events are processed in: the sender's own timestamps.
    order_by: tuple[str, ...]
    max_attempts: int = 12
    # Errors expected from the outside (a service down) are recorded without a traceback.
    quiet_errors: tuple[type[Exception], ...] = ()
    # Until when this process knows the processor is woken.
    _quiet_until: float = field(default=0.0, init=False, repr=False)

    @property
    def wake_key(self) -> str:
        return f"{self.name}:wake"

    def store(self, fields: dict[str, Any]) -> bool:
        """Insert an event once and wake the processor; False if it was stored already."""
        stored = db.insert_unless_present(self.model, "event_id", fields)
        if stored:
            self.wake()
        return stored

    def wake(self) -> None:
        """Enqueue the drain task once the stored event commits, unless it is woken already."""
        inline = jobs.run_inline()
        if not inline and time.monotonic() < self._quiet_until:
            return
        if cache.add(self.wake_key, 1, timeout=WAKE_SECONDS):
            outbox.enqueue_task_on_commit(jobs.task(self.drain_task))
        if not inline:
            self._quiet_until = time.monotonic() + QUIET

    def drain(self, limit: int = 500) -> int:
        """Process every stored event that is due, in order; return how many were run.

        A full batch, or a drain that has run `DRAIN_SECONDS`, hands over to a
        fresh task, queued behind what its events queued, so that never waits
        for a long burst to end.
        """
        cache.delete(self.wake_key)  # before looking: an event stored from now on wakes us
        lowered = time.monotonic()
        linger = 0.0 if jobs.run_inline() else LINGER
        ran = 0
        while True:
            ids = self.due_ids(limit)
            for event_id in ids:
                self.process(event_id)
            ran += len(ids)
            elapsed = time.monotonic() - lowered
            if len(ids) == limit or elapsed > DRAIN_SECONDS:
                if cache.add(self.wake_key, 1, timeout=WAKE_SECONDS):
                    outbox.enqueue_task_on_commit(jobs.task(self.drain_task))
                return ran
            if not ids:
                if elapsed >= linger:
                    return ran
                time.sleep(min(LOOK_EVERY, linger - elapsed))

    def process(self, event_id: str) -> Outcome:
        """Claim the event, apply it and record how it went."""
        current = timezone.now()
        claimable = Q(status=InboxEvent.Status.PENDING, next_attempt_at__lte=current) | Q(
            status=InboxEvent.Status.PROCESSING, lease_until__lt=current
        )
        claimed = self.model._default_manager.filter(claimable, event_id=event_id).update(
            status=InboxEvent.Status.PROCESSING,
            lease_until=current + LEASE,
            attempts=F("attempts") + 1,
        )
        if not claimed:
            return Outcome("skipped")
        event = self.model._default_manager.get(event_id=event_id)
        attempt = event.attempts
        try:
            self.apply(event)
        except Exception as error:  # recorded on the row and retried; nothing is lost
            if not isinstance(error, self.quiet_errors):
                log.exception("%s: event %s failed", self.name, event_id)
            return self._record_failure(event, attempt, error)
        self.model._default_manager.filter(pk=event.pk, attempts=attempt).update(
            status=InboxEvent.Status.DONE,
            processed_at=timezone.now(),
            lease_until=None,
            last_error="",
        )
        return Outcome(InboxEvent.Status.DONE)

    def _record_failure(self, event: InboxEvent, attempt: int, error: Exception) -> Outcome:
        wait = min(MAX_BACKOFF, timedelta(minutes=2 ** (attempt - 1)))
        gave_up = attempt >= self.max_attempts
        message = f"{type(error).__name__}: {error}"[:2000]
        self.model._default_manager.filter(pk=event.pk, attempts=attempt).update(
            status=InboxEvent.Status.FAILED if gave_up else InboxEvent.Status.PENDING,
            next_attempt_at=timezone.now() + wait,
            lease_until=None,
            last_error=message,
        )
        if gave_up:
            return Outcome(InboxEvent.Status.FAILED, error=message)
        return Outcome(InboxEvent.Status.PENDING, retry_in=int(wait.total_seconds()), error=message)

    def due_ids(self, limit: int = 500) -> list[str]:
        """Events whose attempt is due, or whose worker vanished mid-way, in order."""
        current = timezone.now()
        due = Q(status=InboxEvent.Status.PENDING, next_attempt_at__lte=current) | Q(
            status=InboxEvent.Status.PROCESSING, lease_until__lt=current
        )
        return list(
            self.model._default_manager.filter(due)
            .order_by(*self.order_by, "pk")
            .values_list("event_id", flat=True)[:limit]
        )

    def replay(self, event_ids: Iterable[str]) -> int:
        """Process these events again (staff, from the admin): applying is safe to repeat."""
        ids = list(event_ids)
        self.model._default_manager.filter(event_id__in=ids).exclude(
            status=InboxEvent.Status.PROCESSING
        ).update(status=InboxEvent.Status.PENDING, next_attempt_at=timezone.now(), attempts=0)
        for event_id in ids:
            outbox.enqueue_task_on_commit(jobs.task(self.process_task), event_id)
        return len(ids)
