"""Delivering queued email: claim, send, record the outcome (see `outbox.services`).

Concurrency. A row is claimed with one conditional update: pending and due,
or sending with a lease that has run out, becomes sending with a new lease
and one more attempt. Only the worker whose update changed the row goes on,
so a task delivered twice, or the periodic job racing the task, sends once.
The attempt number identifies the claim: the outcome is recorded with an
update conditional on it, so a worker whose lease was retaken records nothing.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from outbox.models import OutboundEmail

logger = logging.getLogger(__name__)

State = OutboundEmail.State

# A claim lasts this long; SMTP and provider calls time out well within it (EMAIL_TIMEOUT).
LEASE = dt.timedelta(minutes=10)
# Back-off: 1, 2, 4 ... minutes, at most 3 hours apart; about 13 hours over 12 attempts.
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=3)
MAX_ATTEMPTS = 12
# However few attempts were made, an email this old is no longer worth sending.
GIVE_UP_AFTER = dt.timedelta(days=1)
# A retry scheduled by the broker may arrive a little before its time by this machine's clock.
CLOCK_SLACK = dt.timedelta(seconds=10)
# The periodic job leaves a due row this long to the task already on its way to it.
SWEEP_GRACE = dt.timedelta(minutes=1)
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did."""

    state: str  # the row's state afterwards, or "skipped" when it was not ours to send
    retry_in: float | None = None  # seconds until the next attempt, after a failure


SKIPPED = Delivery("skipped")


def backoff(attempts: int) -> dt.timedelta:
    """Return how long to wait after the `attempts`-th failed attempt."""
    return min(BACKOFF_BASE * 2 ** max(0, attempts - 1), BACKOFF_MAX)


def _claimable(now: dt.datetime) -> Q:
    due = Q(state=State.PENDING, next_attempt_at__lte=now + CLOCK_SLACK)
    abandoned = Q(state=State.SENDING, lease_until__lt=now)
    return due | abandoned


def deliver_email(email_id: int) -> Delivery:
    """Send one queued email if it is due and nobody else holds it.

    Never raises for a mail backend failure: the error is recorded and the row
    waits for its next attempt, or is marked failed when it has had enough.
    """
    now = timezone.now()
    claimed = (
        OutboundEmail.objects.filter(pk=email_id)
        .filter(_claimable(now))
        .update(state=State.SENDING, lease_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return SKIPPED
    email = OutboundEmail.objects.get(pk=email_id)
    mine = OutboundEmail.objects.filter(pk=email_id, state=State.SENDING, attempts=email.attempts)
    try:
        build_message(email).send()
    except Exception as exc:
        return _record_failure(email, mine, exc)
    forgotten = {"to_email": ""} if email.forget_recipient else {}
    mine.update(
        state=State.SENT,
        finished_at=timezone.now(),
        lease_until=None,
        last_error="",
        # Sent: what it said (a one-time link, someone's name) is no longer needed.
        subject="",
        text="",
        html="",
        headers={},
        **forgotten,
    )
    logger.info("email sent", extra={"email_id": email_id, "attempts": email.attempts})
    return Delivery(State.SENT)


def build_message(email: OutboundEmail) -> EmailMessage:
    """Return the message stored in `email`, ready for Django's mail backend."""
    message: EmailMessage
    if email.text or not email.html:
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.text,
            from_email=email.from_email,
            to=[email.to_email],
            headers=dict(email.headers),
        )
        if email.html:
            message.attach_alternative(email.html, "text/html")
    else:
        message = EmailMessage(
            subject=email.subject,
            body=email.html,
            from_email=email.from_email,
            to=[email.to_email],
            headers=dict(email.headers),
        )
        message.content_subtype = "html"
    return message


def _record_failure(email: OutboundEmail, mine: QuerySet, exc: Exception) -> Delivery:
    now = timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:1000]
    extra = {"email_id": email.pk, "attempts": email.attempts, "error": error}
    if email.attempts >= MAX_ATTEMPTS or now - email.created_at >= GIVE_UP_AFTER:
        mine.update(state=State.FAILED, finished_at=now, lease_until=None, last_error=error)
        logger.error("email given up after repeated failures", extra=extra)
        return Delivery(State.FAILED)
    wait = backoff(email.attempts)
    mine.update(state=State.PENDING, next_attempt_at=now + wait, lease_until=None, last_error=error)
    logger.warning("email not sent; will try again", extra=extra, exc_info=exc)
    return Delivery(State.PENDING, retry_in=wait.total_seconds())


def due_email_ids(at: dt.datetime | None = None) -> list[int]:
    """Return one batch of emails whose attempt is due or whose lease ran out, oldest first.

    A pending row is left to the task already on its way to it for `SWEEP_GRACE`.
    """
    at = at or timezone.now()
    due = OutboundEmail.objects.filter(
        Q(state=State.PENDING, next_attempt_at__lte=at - SWEEP_GRACE)
        | Q(state=State.SENDING, lease_until__lt=at)
    )
    return list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
