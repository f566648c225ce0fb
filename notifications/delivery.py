"""Notification email: immediate, held for quiet hours, and daily digests.

This module decides whether, when and what to email; the outbox sends it.

Delivery guarantee. A row is claimed before anything is queued: a conditional
update moves it from PENDING to SENDING and stamps `email_claimed_at`, and only
the caller whose update changed the row goes on. The rendered email is then
handed to the outbox (key "notification:<id>") in the same transaction that
marks the row SENT, so both happen or neither does. A task that runs twice, or
two workers racing for the same row, queue it once; a claim abandoned by a dead
worker is taken up after `STALE_AFTER` and queued again under the same key,
which inserts nothing if the first hand-over committed. A mail outage is the
outbox's business: it retries with back-off, so SENT here means "handed over".
Rendering that raises releases the claim (tried again by the periodic job after
a back-off, FAILED after `MAX_ATTEMPTS`). Each email carries a stable
Message-ID built from the notification.

Digests follow the same rule per (user, local day): a `DigestRun` row, unique
on that pair, is inserted first and the notifications it covers are attached
to it, so a second run of the job finds the day taken and queues nothing; the
digest is handed to the outbox under the run's own key ("digest:<run id>").
"""

import datetime as dt
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications.models import (
    CourseMute,
    DigestRun,
    EmailMode,
    EmailState,
    Notification,
    preference_for,
)
from notifications.services import user_zone
from outbox import services as outbox

logger = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5
BATCH = 200
DIGEST_LIMIT = 50  # notifications listed in one digest; the rest are counted
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
BUTTON_LABELS = {
    "announcement": "Read the announcement",
    "assignment": "Open the assignment",
    "due_soon": "Open the assignment",
    "grade_returned": "See your grade",
    "message": "Read the message",
    "enrolment": "Open the course",
    "waitlist_promotion": "Open the course",
}
ALL = "all"


# --- Unsubscribe tokens ----------------------------------------------------------------------


def unsubscribe_token(user: Any, scope: str | int = ALL) -> str:
    """Return a signed token that turns off `user`'s notification email.

    `scope` is ALL for every notification email, or a course id to mute that course.
    """
    return signing.dumps({"u": user.pk, "s": scope}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, str | int]:
    """Return (user id, scope) from a token; raise signing.BadSignature if tampered with."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise signing.BadSignature("Malformed unsubscribe token.")
    scope = data.get("s")
    if scope != ALL and not isinstance(scope, int):
        raise signing.BadSignature("Malformed unsubscribe scope.")
    return data["u"], scope


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _open_url(notification: Notification) -> str:
    # Through our own page, so following the email marks the notification read.
    return _absolute(reverse("notifications:open", args=[notification.pk]))


def _unsubscribe_url(user: Any, scope: str | int = ALL) -> str:
    return _absolute(reverse("notifications:unsubscribe", args=[unsubscribe_token(user, scope)]))


def _headers(user: Any, message_id: str) -> dict[str, str]:
    # RFC 8058: the POST target must work without cookies or a login.
    return {
        "List-Unsubscribe": f"<{_unsubscribe_url(user)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Message-ID": message_id,
    }


def _domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "lectern.localhost"


def _common_context(user: Any) -> dict[str, Any]:
    return {
        "user": user,
        "site_name": settings.SITE_NAME,
        "current_site": {"domain": urlsplit(settings.SITE_URL).netloc, "name": settings.SITE_NAME},
        "preferences_url": _absolute(reverse("notifications:preferences")),
        "unsubscribe_url": _unsubscribe_url(user),
        "list_url": _absolute(reverse("notifications:list")),
    }


def _render(
    *, prefix: str, user: Any, context: dict[str, Any], message_id: str
) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    text = render_to_string(f"{prefix}_message.txt", context)
    html = render_to_string(f"{prefix}_message.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[user.email],
        headers=_headers(user, message_id),
    )
    message.attach_alternative(html, "text/html")
    return message


# --- Immediate emails ------------------------------------------------------------------------


def _claimable(at: dt.datetime) -> Q:
    ready = Q(email_state=EmailState.PENDING) & (
        Q(email_not_before__isnull=True) | Q(email_not_before__lte=at)
    )
    abandoned = Q(
        email_state=EmailState.SENDING,
        digest__isnull=True,
        email_claimed_at__lt=at - STALE_AFTER,
    )
    return ready | abandoned


def send_notification_email(notification_id: int, *, at: dt.datetime | None = None) -> bool:
    """Send one notification's email if it is due and nobody claimed it; return True when sent.

    Never raises for a mail backend failure: the row is released for a later try.
    """
    at = at or timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .filter(_claimable(at))
        .update(
            email_state=EmailState.SENDING,
            email_claimed_at=at,
            email_attempts=F("email_attempts") + 1,
        )
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient", "course", "actor").get(
        pk=notification_id
    )
    mine = Notification.objects.filter(
        pk=notification_id, email_state=EmailState.SENDING, email_claimed_at=at
    )
    recipient = notification.recipient
    pref = preference_for(recipient)
    muted = (
        notification.course_id is not None
        and CourseMute.objects.filter(user=recipient, course_id=notification.course_id).exists()
    )
    if (
        not recipient.is_active
        or notification.read_at is not None
        or muted
        or pref.email_mode != EmailMode.IMMEDIATE
    ):
        # Preferences changed, or it was read, since it was queued.
        state = EmailState.DIGEST if pref.email_mode == EmailMode.DIGEST else EmailState.NONE
        if notification.read_at is not None or muted or not recipient.is_active:
            state = EmailState.NONE
        mine.update(email_state=state)
        return False
    quiet_until = pref.quiet_until(at, user_zone(recipient))
    if quiet_until is not None:
        mine.update(
            email_state=EmailState.PENDING,
            email_not_before=quiet_until,
            email_attempts=F("email_attempts") - 1,
        )
        return False
    context = {
        **_common_context(recipient),
        "notification": notification,
        "open_url": _open_url(notification),
        "button_label": BUTTON_LABELS.get(notification.kind, "Open in Lectern"),
        "mute_url": (
            _unsubscribe_url(recipient, notification.course_id) if notification.course_id else ""
        ),
    }
    try:
        message = _render(
            prefix="notifications/email/notification",
            user=recipient,
            context=context,
            message_id=f"<notification-{notification.pk}@{_domain()}>",
        )
    except Exception:
        logger.exception("Rendering the email of notification %s failed", notification_id)
        _release(mine, attempts=notification.email_attempts, at=at)
        return False
    with transaction.atomic():
        handed_over = mine.update(email_state=EmailState.SENT, email_sent_at=timezone.now())
        if handed_over:
            outbox.enqueue_email(key=f"notification:{notification.pk}", message=message)
    return bool(handed_over)


def _release(rows: Any, *, attempts: int, at: dt.datetime) -> None:
    if attempts >= MAX_ATTEMPTS:
        rows.update(email_state=EmailState.FAILED)
    else:
        backoff = dt.timedelta(minutes=2**attempts)
        rows.update(email_state=EmailState.PENDING, email_not_before=at + backoff)


def send_held_emails(*, at: dt.datetime | None = None) -> int:
    """Send every immediate email that is due: quiet hours over, back-off passed, or abandoned.

    Return how many were sent.
    """
    at = at or timezone.now()
    sent, after = 0, 0
    while True:
        # Walk forward by id, so each row is tried at most once per run.
        ids = list(
            Notification.objects.filter(_claimable(at), pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return sent
        after = ids[-1]
        sent += sum(send_notification_email(pk, at=at) for pk in ids)


# --- Daily digests -----------------------------------------------------------------------------


def send_due_digests(*, at: dt.datetime | None = None) -> int:
    """Send each digest reader whose digest hour has come their one email of the day.

    Return how many digests were sent.
    """
    at = at or timezone.now()
    waiting = (
        Notification.objects.filter(email_state=EmailState.DIGEST, digest__isnull=True)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    retry = DigestRun.objects.filter(
        Q(state=DigestRun.State.FAILED)
        | Q(state=DigestRun.State.SENDING, claimed_at__lt=at - STALE_AFTER),
        attempts__lt=MAX_ATTEMPTS,
    ).values_list("user_id", flat=True)
    sent = 0
    for user_id in sorted({*waiting, *retry}):
        sent += int(send_digest(user_id=user_id, at=at))
    return sent


def send_digest(*, user_id: int, at: dt.datetime | None = None) -> bool:
    """Send `user_id`'s digest for their local day if it is due and not sent yet."""
    at = at or timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    pref = preference_for(user)
    zone = user_zone(user)
    local = at.astimezone(zone)
    if pref.quiet_until(at, zone) is not None:
        return False
    run = _claim_stale_run(user, at)
    if run is None:
        if pref.email_mode != EmailMode.DIGEST or local.hour < pref.digest_hour:
            return False
        run = _claim_new_run(user, local.date(), at)
        if run is None:
            return False
    included = list(
        Notification.objects.filter(digest=run, read_at__isnull=True)
        .select_related("course", "actor")
        .order_by("-created_at", "-id")[:DIGEST_LIMIT]
    )
    total = Notification.objects.filter(digest=run, read_at__isnull=True).count()
    for notification in included:
        notification.open_url = _open_url(notification)  # type: ignore[attr-defined]
    if not included:
        DigestRun.objects.filter(pk=run.pk).update(state=DigestRun.State.EMPTY)
        Notification.objects.filter(digest=run).update(email_state=EmailState.NONE)
        return False
    context = {
        **_common_context(user),
        "notifications": included,
        "total": total,
        "more": total - len(included),
        "day": run.day,
    }
    try:
        message = _render(
            prefix="notifications/email/digest",
            user=user,
            context=context,
            message_id=f"<digest-{user.pk}-{run.day.isoformat()}@{_domain()}>",
        )
    except Exception:
        logger.exception("Rendering the digest of user %s failed", user_id)
        DigestRun.objects.filter(pk=run.pk, claimed_at=run.claimed_at).update(
            state=DigestRun.State.FAILED
        )
        return False
    sent_at = timezone.now()
    with transaction.atomic():
        handed_over = DigestRun.objects.filter(
            pk=run.pk, state=DigestRun.State.SENDING, claimed_at=run.claimed_at
        ).update(state=DigestRun.State.SENT, sent_at=sent_at)
        if not handed_over:
            return False  # a later claim took this run over; it queues the digest
        outbox.enqueue_email(key=f"digest:{run.pk}", message=message)
        Notification.objects.filter(digest=run).update(
            email_state=EmailState.SENT, email_sent_at=sent_at
        )
    return True


def _claim_new_run(user: Any, day: dt.date, at: dt.datetime) -> DigestRun | None:
    try:
        with transaction.atomic():
            run = DigestRun.objects.create(user=user, day=day, claimed_at=at)
    except IntegrityError:  # today's digest is taken: sent, empty, or being sent
        return None
    Notification.objects.filter(
        recipient=user, email_state=EmailState.DIGEST, digest__isnull=True
    ).update(digest=run, email_state=EmailState.SENDING, email_claimed_at=at)
    return run


def _claim_stale_run(user: Any, at: dt.datetime) -> DigestRun | None:
    """Take over a digest that failed or whose sender vanished, if there is one."""
    run = (
        DigestRun.objects.filter(user=user, attempts__lt=MAX_ATTEMPTS)
        .filter(
            Q(state=DigestRun.State.FAILED)
            | Q(state=DigestRun.State.SENDING, claimed_at__lt=at - STALE_AFTER)
        )
        .order_by("day")
        .first()
    )
    if run is None:
        return None
    taken = DigestRun.objects.filter(pk=run.pk, state=run.state, claimed_at=run.claimed_at).update(
        state=DigestRun.State.SENDING, claimed_at=at, attempts=F("attempts") + 1
    )
    if not taken:
        return None
    run.refresh_from_db()
    return run
