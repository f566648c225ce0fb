"""The one way Lectern sends email: a transactional outbox.

How an email leaves.

1. The sender renders the message (subject, text, HTML, headers such as
   List-Unsubscribe) inside its own transaction and calls `enqueue_email`
   with a key derived from its own records ("enrolment-added:<id>:<time>").
   The row is inserted first under a unique constraint: a key seen before
   inserts nothing, so a flow that runs twice queues one email. The row
   commits, or rolls back, with the sender's own writes.
2. Once the transaction commits, `deliver_email_task(id)` is enqueued. A
   broker that can't be reached is logged, not raised: the row is already
   safe in the database.
3. The task (`outbox.delivery`) claims the row with a conditional update (pending and due, or
   sending with a lease that has run out → sending, with a new lease), sends
   it through Django's mail backend and marks it sent. Only the holder of the
   claim (identified by its attempt number) can record the outcome.
4. A failed send records the error and the next attempt, after an
   exponential back-off. With a broker the task retries itself with that
   countdown (up to ten minutes; longer waits are the periodic job's); inline
   (the embedded default, and the tests) nothing is raised into the request
   and the row simply waits.
5. `requeue_due_emails_task`, a periodic job (Celery beat, or `manage.py
   run_periodic` under `make run`), enqueues rows whose attempt is due or
   whose lease ran out: nothing is lost when Redis was down, a worker died
   or a retry message vanished.
6. After `MAX_ATTEMPTS` or `GIVE_UP_AFTER` the row is marked failed; staff see
   it in the admin and can send it again.

The one gap is a worker killed after the provider accepted a message but
before the row was marked sent: its lease runs out and the email is sent
again. That is at-least-once for a single network round trip, chosen over
losing the email; the Message-ID is fixed when the row is queued, so mail
clients can recognise the repeat.

How to add another side effect (a Stripe call, a LiveKit room, an AI request)
that must follow a write — the same five parts; see docs/side-effects.md:

- a row that records the intent, inserted in the writer's transaction with a
  unique key derived from our own records (and, for a provider, sent to it as
  its idempotency key);
- a task enqueued on commit (`enqueue_task_on_commit`), acknowledged late;
- a claim by conditional update, with a lease so a dead worker's claim can be
  retaken;
- a recorded error, a back-off and a bounded number of attempts;
- a periodic job that enqueues what is due, and an inline run that never
  raises into the request.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from email.utils import make_msgid
from typing import Any

from celery import Task
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from outbox import tasks
from outbox.models import OutboundEmail

logger = logging.getLogger(__name__)

State = OutboundEmail.State
MAX_KEY_LENGTH = OutboundEmail._meta.get_field("key").max_length or 255
# Sent and failed rows are purged after this long (a sent one keeps only its key, address, dates).
KEEP_FINISHED = dt.timedelta(days=30)


# --- Queueing --------------------------------------------------------------------------------


def enqueue_email(
    *, key: str, message: EmailMessage, forget_recipient: bool = False
) -> OutboundEmail | None:
    """Queue `message` to be sent once the current transaction commits, once per `key`.

    Return the new row, or None when an email with this key was queued before
    (nothing is inserted or sent then). The message must have exactly one
    recipient and no attachments. Call it inside the transaction that makes
    the email true, so both commit or neither does. `forget_recipient` clears
    the address as soon as the email is sent, for people who asked to be
    forgotten (the key must then not contain the address either).
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"An email needs a key of 1 to {MAX_KEY_LENGTH} characters.")
    recipients = [*message.to, *message.cc, *message.bcc]
    if len(recipients) != 1:
        raise ValueError("An outbox email goes to exactly one address.")
    if message.attachments:
        raise ValueError("The outbox does not carry attachments; send a link instead.")
    text, html = _bodies(message)
    headers = {str(name): str(value) for name, value in message.extra_headers.items()}
    if message.reply_to:
        headers.setdefault("Reply-To", ", ".join(message.reply_to))
    if not any(name.lower() == "message-id" for name in headers):
        # Fixed now, so every attempt at this email carries the same Message-ID.
        headers["Message-ID"] = make_msgid(domain=str(DNS_NAME))
    try:
        # A savepoint, so a duplicate key leaves the caller's transaction usable.
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                key=key,
                to_email=recipients[0],
                from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
                subject=str(message.subject),
                text=text,
                html=html,
                headers=headers,
                forget_recipient=forget_recipient,
            )
    except IntegrityError:
        logger.info("email already queued", extra={"key": key})
        return None
    enqueue_task_on_commit(tasks.deliver_email_task, email.pk)
    return email


def enqueue_task_on_commit(task: Task, *args: Any) -> None:
    """Enqueue `task(*args)` once the current transaction commits; never fail the caller.

    A broker that can't be reached, or (inline) a task that raises, is logged:
    the work is recorded in a row that the owner's periodic job picks up again.
    """

    def enqueue() -> None:
        try:
            task.delay(*args)
        except Exception:
            logger.exception(
                "could not run a task; its periodic job will", extra={"task": task.name}
            )

    transaction.on_commit(enqueue)


def _bodies(message: EmailMessage) -> tuple[str, str]:
    """Return the (text, HTML) bodies of `message`."""
    body = str(message.body or "")
    if message.content_subtype == "html":
        return "", body
    html = ""
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content.decode() if isinstance(content, bytes) else str(content)
    return body, html


@transaction.atomic
def retry_emails(*, emails: QuerySet[OutboundEmail]) -> int:
    """Give failed or waiting `emails` one more attempt now; return how many were queued.

    Sent emails are left alone, and so are those being sent: a second send would be a duplicate.
    """
    ids = list(emails.filter(state__in=[State.PENDING, State.FAILED]).values_list("pk", flat=True))
    OutboundEmail.objects.filter(pk__in=ids).update(
        state=State.PENDING, next_attempt_at=timezone.now(), finished_at=None
    )
    for email_id in ids:
        enqueue_task_on_commit(tasks.deliver_email_task, email_id)
    return len(ids)


# --- Privacy: declared by the privacy app, which sits above this one -------------------------


def emails_to(addresses: Iterable[str]) -> QuerySet[OutboundEmail]:
    """Return every email to any of `addresses`, compared without case."""
    lowered = {address.lower() for address in addresses if address}
    return OutboundEmail.objects.alias(to_lower=Lower("to_email")).filter(to_lower__in=lowered)


def finished_emails(at: dt.datetime | None = None) -> QuerySet[OutboundEmail]:
    """Return the sent and failed emails past their retention period."""
    at = at or timezone.now()
    return OutboundEmail.objects.filter(
        state__in=[State.SENT, State.FAILED], finished_at__lt=at - KEEP_FINISHED
    )
