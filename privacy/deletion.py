"""Delete my account: deactivation, cooling-off, resumable erasure and the receipt.

A request deactivates the account at once (signed out everywhere, hidden from
others, unable to sign in) and schedules the erasure after the cooling-off
period, which the emailed link can cancel.

The erasure is a Celery task that may be killed at any point or run twice, so
it is built from steps that each commit with their own record:

- The request is claimed with a conditional update (pending, failed, or
  erasing with a heartbeat too old to belong to a live worker → erasing), so
  two workers never erase the same account at once.
- Each registry entry's eraser runs in a transaction that also records
  `steps[label] = count` and bumps `heartbeat_at`: a step is either done and
  recorded, or not done at all. A rerun starts at the first unrecorded step.
  Stored files are removed from storage before their rows, inside the step, so
  a killed worker leaves rows pointing at missing blobs (which the rerun
  deletes) rather than blobs nobody knows about.
- The user's own row goes last: until then the erasers can still find the
  person's rows through it.
- The receipt is claimed with a conditional update of `receipt_sent_at`, in the
  transaction that queues it in the outbox, so it goes out once; only then are
  the request's name and address cleared (the outbox keeps its own copy until
  the receipt is sent, and purges it 30 days later).

A failing step marks the request failed with the error; the retention sweep
resumes failed and stalled erasures once their heartbeat is `STALE_AFTER` old.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.core import signing
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from core import jobs
from privacy import emails
from privacy.models import DeletionRequest
from privacy.registry import Entry, Erasure, registry

logger = logging.getLogger(__name__)

State = DeletionRequest.State

# An erasure whose heartbeat is older than this is taken to have lost its worker.
STALE_AFTER = timedelta(minutes=15)
TOKEN_SALT = "privacy.deletion.cancel"
DELETED_NAME = "Deleted user"
# Enqueued by name: the tasks module imports this one (core.jobs explains why).
ERASE_TASK = "privacy.tasks.erase_account_task"


def cooling_off() -> timedelta:
    return timedelta(days=settings.ACCOUNT_DELETION_COOLING_OFF_DAYS)


# --- Requesting and cancelling ---------------------------------------------------------------


def open_request(user: Any) -> DeletionRequest | None:
    """Return `user`'s deletion request that is still under way, if any."""
    return DeletionRequest.objects.filter(user=user, state__in=DeletionRequest.OPEN_STATES).first()


def cancel_token(deletion: DeletionRequest) -> str:
    """Return the signed token of the emailed cancel link; it names the request."""
    return signing.dumps(deletion.pk, salt=TOKEN_SALT)


def cancel_url(deletion: DeletionRequest) -> str:
    return emails.absolute(reverse("privacy:deletion_cancel", args=[cancel_token(deletion)]))


def request_for_token(token: str) -> DeletionRequest | None:
    """Return the request a cancel token names, or None when the token is not one of ours."""
    # The link outlives the cooling-off by a day, so a late click gets a clear "too late".
    max_age = cooling_off() + timedelta(days=1)
    try:
        pk = signing.loads(token, salt=TOKEN_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return DeletionRequest.objects.filter(pk=pk).first()


def end_all_sessions(user: Any) -> int:
    """Sign `user` out on every device: end each session allauth tracks for them."""
    ended = 0
    for session in UserSession.objects.filter(user=user):
        session.end()
        ended += 1
    return ended


def request_deletion(*, user: Any, request: HttpRequest | None = None) -> DeletionRequest:
    """Deactivate `user` at once and schedule the erasure after the cooling-off period.

    The account can no longer sign in, every session ends (the current request
    is logged out too), and an email with the cancel link goes out once the
    transaction commits. A request already under way is returned as it is.
    """
    with transaction.atomic():
        # The lock makes two submissions at once create one request.
        locked = get_user_model()._default_manager.select_for_update().get(pk=user.pk)
        existing = open_request(locked)
        if existing is not None:
            return existing
        now = timezone.now()
        deletion = DeletionRequest.objects.create(
            user=locked,
            email=locked.email,
            first_name=locked.first_name,
            requested_at=now,
            erase_after=now + cooling_off(),
        )
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        end_all_sessions(locked)
        _send_scheduled(deletion)
    if request is not None:
        logout(request)
    return deletion


def _send_scheduled(deletion: DeletionRequest) -> None:
    """Queue the email with the cancel link; the outbox sends it once the request commits."""
    emails.send(
        "privacy/email/deletion_scheduled",
        deletion.email,
        {
            "first_name": deletion.first_name,
            "erase_after": deletion.erase_after,
            "cancel_url": cancel_url(deletion),
            "cooling_off_days": settings.ACCOUNT_DELETION_COOLING_OFF_DAYS,
        },
        key=f"deletion-scheduled:{deletion.pk}",
    )


def cancel(deletion: DeletionRequest) -> bool:
    """Cancel a pending deletion and switch the account back on; False when it is too late."""
    with transaction.atomic():
        # Conditional: the erasure claims pending requests the same way, and one of them wins.
        # A cancelled request sends nothing more, so it keeps no address or name either.
        cancelled = DeletionRequest.objects.filter(pk=deletion.pk, state=State.PENDING).update(
            state=State.CANCELLED, cancelled_at=timezone.now(), email="", first_name=""
        )
        if cancelled and deletion.user_id is not None:
            get_user_model()._default_manager.filter(pk=deletion.user_id).update(is_active=True)
    deletion.refresh_from_db()
    return bool(cancelled)


# --- What deleting an account does, for the page and the receipt -----------------------------


@dataclass(frozen=True)
class Category:
    name: str
    notes: list[str]


@dataclass(frozen=True)
class Kept:
    category: str
    reason: str
    retention: str


def erased_categories() -> list[Category]:
    """Every category the registry holds, with what deleting the account does to it."""
    grouped: dict[str, list[str]] = {}
    for entry in registry:
        if entry.erasure is Erasure.KEEP:
            continue
        notes = grouped.setdefault(entry.category, [])
        if entry.on_erasure not in notes:
            notes.append(entry.on_erasure)
    return [Category(name, notes) for name, notes in grouped.items()]


def kept_categories() -> list[Kept]:
    """The legal holds: what is kept after deletion, why and for how long."""
    return [
        Kept(entry.category, entry.legal_reason, entry.retention.description)
        for entry in registry
        if entry.erasure is Erasure.KEEP
    ]


def _kept_for_receipt(at: Any) -> list[dict[str, str]]:
    kept = []
    for entry in registry:
        if entry.erasure is not Erasure.KEEP:
            continue
        period = entry.retention.period
        kept.append(
            {
                "category": entry.category,
                "reason": entry.legal_reason,
                "until": (at + period).date().isoformat() if period else "",
            }
        )
    return kept


# --- Erasure ---------------------------------------------------------------------------------


def due_deletions() -> QuerySet:
    """Requests whose cooling-off has ended, or whose erasure stopped and must resume."""
    now = timezone.now()
    return DeletionRequest.objects.filter(
        Q(state=State.PENDING, erase_after__lte=now)
        | Q(state__in=[State.ERASING, State.FAILED], heartbeat_at__lt=now - STALE_AFTER)
    )


def start_due_deletions(batch: QuerySet) -> int:
    """Queue the erasure of a batch of due requests; returns how many were queued."""
    pks: list[int] = list(batch.values_list("pk", flat=True))
    for pk in pks:
        transaction.on_commit(functools.partial(jobs.task(ERASE_TASK).delay, pk))
    return len(pks)


def erasure_order() -> list[Entry]:
    """The registry's entries in the order the erasure runs them.

    Entries marked `erase_first` (the person's uploaded files) go first: other
    steps delete rows that files cascade from (a submission takes its files
    with it), which would leave their blobs in storage. The user's own row
    goes last, and the request's own entry not at all (the receipt step
    clears it).
    """
    last = get_user_model()._meta.label
    skip = {last, DeletionRequest._meta.label}
    entries = [e for e in registry if e.label not in skip]
    first = [e for e in entries if e.erase_first]
    rest = [e for e in entries if not e.erase_first]
    return [*first, *rest, registry.entries[last]]


def _postponed(request_id: int) -> bool:
    pending = DeletionRequest.objects.filter(pk=request_id, state=State.PENDING).first()
    if pending is None or pending.user is None:
        return False
    blockers = registry.deletion_blockers_for(pending.user)
    if not blockers:
        return False
    DeletionRequest.objects.filter(pk=request_id, state=State.PENDING).update(
        erase_after=timezone.now() + BLOCKED_RETRY,
        error="; ".join(f"{b.title} {b.body}" for b in blockers)[:500],
    )
    return True


def _claim(request_id: int) -> bool:
    now = timezone.now()
    claimable = (
        Q(state=State.PENDING, erase_after__lte=now)
        | Q(state=State.FAILED)
        | Q(state=State.ERASING, heartbeat_at__lt=now - STALE_AFTER)
    )
    return bool(
        DeletionRequest.objects.filter(claimable, pk=request_id).update(
            state=State.ERASING,
            started_at=Coalesce(F("started_at"), Value(now)),
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            error="",
        )
    )


def _fail(request_id: int, error: str) -> None:
    DeletionRequest.objects.filter(pk=request_id, state=State.ERASING).update(
        state=State.FAILED, error=error[:500], heartbeat_at=timezone.now()
    )


def _run_step(request_id: int, entry: Entry) -> bool:
    """Run one eraser and record it in the same transaction; False when the claim was lost."""
    with transaction.atomic():
        deletion = DeletionRequest.objects.select_for_update().get(pk=request_id)
        if deletion.state != State.ERASING:
            return False
        if entry.label in deletion.steps:
            return True
        if deletion.user_id is None:
            # The account row is already gone: nothing of the person is left to find, and an
            # eraser given no one would match the rows that belong to no one.
            count = 0
        else:
            user = get_user_model()._default_manager.get(pk=deletion.user_id)
            count = entry.eraser(user)
        deletion.steps = {**deletion.steps, entry.label: count}
        deletion.heartbeat_at = timezone.now()
        deletion.save(update_fields=["steps", "heartbeat_at"])
    return True


BLOCKED_RETRY = timedelta(days=1)


def erase(request_id: int) -> None:
    """Run every eraser in the registry for one request, resuming where it stopped.

    An erasure that hasn't started waits a day at a time while something must
    be settled first (`registry.deletion_blockers_for`), such as a teacher's
    open dispute; the person was told when they asked.
    """
    if _postponed(request_id):
        return
    if not _claim(request_id):
        return
    for entry in erasure_order():
        try:
            if not _run_step(request_id, entry):
                return
        except Exception as exc:
            logger.exception("account erasure step failed", extra={"step": entry.label})
            _fail(request_id, f"{entry.label}: {type(exc).__name__}: {exc}")
            return
    try:
        _send_receipt(request_id)
    except Exception as exc:
        logger.exception("deletion receipt failed")
        _fail(request_id, f"receipt: {type(exc).__name__}: {exc}")
        return
    DeletionRequest.objects.filter(pk=request_id, state=State.ERASING).update(
        state=State.COMPLETED, completed_at=timezone.now(), email="", first_name="", user=None
    )


@transaction.atomic
def _send_receipt(request_id: int) -> None:
    """Queue the receipt once: whoever sets `receipt_sent_at` first queues it.

    The claim and the outbox row commit together; the outbox sends the email
    and retries it while the mail service is down.
    """
    now = timezone.now()
    kept = _kept_for_receipt(now)
    claimed = DeletionRequest.objects.filter(pk=request_id, receipt_sent_at__isnull=True).update(
        receipt_sent_at=now, kept=kept
    )
    if not claimed:
        return
    deletion = DeletionRequest.objects.get(pk=request_id)
    emails.send(
        "privacy/email/deletion_receipt",
        deletion.email,
        {
            "first_name": deletion.first_name,
            "requested_at": deletion.requested_at,
            "erased": _erased_counts(deletion.steps),
            "kept": kept,
        },
        key=f"deletion-receipt:{request_id}",
        # The account is gone: once the receipt is out, nothing may keep the address.
        forget_recipient=True,
    )


def _erased_counts(steps: dict[str, int]) -> list[dict[str, Any]]:
    """Sum what each step did by category, for the receipt (legal holds are listed apart)."""
    totals: dict[str, int] = {}
    for label, count in steps.items():
        entry = registry.entries.get(label)
        if entry is None or entry.erasure is Erasure.KEEP:
            continue
        totals[entry.category] = totals.get(entry.category, 0) + count
    return [{"category": name, "count": count} for name, count in totals.items() if count]
