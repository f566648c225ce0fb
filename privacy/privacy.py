from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.db.models import QuerySet
from django.utils import timezone

from outbox import services as outbox
from outbox.models import OutboundEmail
from privacy import deletion, export
from privacy.models import DeletionRequest, ExportRequest, PolicyAcceptance
from privacy.registry import Basis, Erasure, Retention, register

_ACCEPTANCE_KEEP = timedelta(days=730)


def _anonymise_acceptances(user: Any) -> int:
    return PolicyAcceptance.objects.filter(user=user).update(
        user=None, user_deleted_at=timezone.now()
    )


def _expired_acceptances() -> QuerySet:
    return PolicyAcceptance.objects.filter(user_deleted_at__lt=timezone.now() - _ACCEPTANCE_KEEP)


register(
    PolicyAcceptance,
    category="Policy acceptances",
    purpose="Proof of which version of each policy you agreed to, and when",
    owner="user",
    fields=["document", "sha256", "accepted_at"],
    erasure=Erasure.KEEP,
    eraser=_anonymise_acceptances,
    legal_reason="kept, unlinked from you, as evidence of consent",
    basis=Basis.LEGAL_OBLIGATION,
    dated_by="accepted_at",
    retention=Retention(
        "While your account exists, then 24 months after it is deleted",
        period=_ACCEPTANCE_KEEP,
        expired=_expired_acceptances,
    ),
)


def _erase_exports(user: Any) -> int:
    return export.erase_exports(user)


def _expired_exports() -> QuerySet:
    return export.expired_exports()


def _purge_expired_exports(batch: QuerySet) -> int:
    return export.purge_expired_exports(batch)


def _due_deletions() -> QuerySet:
    return deletion.due_deletions()


def _start_due_deletions(batch: QuerySet) -> int:
    return deletion.start_due_deletions(batch)


def _keep_deletion_request(user: Any) -> int:
    # The erasure itself clears the request's name and address once the receipt is sent.
    return 0


register(
    ExportRequest,
    category="Data exports",
    purpose="Preparing the copy of your data you asked for, and emailing you the link",
    owner="user",
    fields=["state", "requested_at", "finished_at", "expires_at", "size"],
    eraser=_erase_exports,
    dated_by="requested_at",
    retention=Retention(
        "The file is deleted when its link expires, after 7 days; the request stays in your "
        "history while your account exists",
        expired=_expired_exports,
        purge=_purge_expired_exports,
    ),
)
register(
    DeletionRequest,
    category="Account deletion requests",
    purpose="Deleting your account when you asked, letting you cancel during the cooling-off "
    "period, and sending you the receipt",
    owner="user",
    fields=["state", "requested_at", "erase_after", "cancelled_at", "completed_at"],
    erasure=Erasure.ANONYMISE,
    eraser=_keep_deletion_request,
    erasure_note="Your name and address are removed from the request once the receipt is sent",
    dated_by="requested_at",
    retention=Retention(
        "Your name and address are removed once the deletion receipt is sent; the dates and "
        "counts stay, unlinked from you",
        expired=_due_deletions,
        purge=_start_due_deletions,
    ),
)


# --- Outgoing email ----------------------------------------------------------------------------
# The outbox sits below privacy in the layers: it only sends what other apps render and knows
# nothing about people or this registry. Its rows hold a person's address and, until sent, the
# email's body, so they are declared here, found by every address the person has had on file.


def _addresses_of(user: Any) -> set[str]:
    addresses = set(EmailAddress.objects.filter(user=user).values_list("email", flat=True))
    return {address.lower() for address in (user.email, *addresses) if address}


def _outbound_emails(user: Any) -> QuerySet:
    return outbox.emails_to(_addresses_of(user))


def _export_outbound_emails(user: Any) -> Iterator[dict[str, Any]]:
    rows = _outbound_emails(user).order_by("pk")
    fields = ("to_email", "subject", "state", "created_at", "finished_at")
    return rows.values(*fields).iterator(chunk_size=2000)


def _erase_outbound_emails(user: Any) -> int:
    deleted, _ = _outbound_emails(user).delete()
    return deleted


register(
    OutboundEmail,
    category="Emails sent to you",
    purpose="Sending you the emails about your account, courses and notifications, and "
    "trying again when the mail service is down",
    owner="to_email",
    rows=_outbound_emails,
    exporter=_export_outbound_emails,
    schema={
        "to_email": "The address the email went to",
        "subject": "The email's subject (kept only until it is sent)",
        "state": "Waiting to send, sending, sent, or failed (given up after a day of retries)",
        "created_at": "When the email was queued",
        "finished_at": "When it was sent, or given up",
    },
    eraser=_erase_outbound_emails,
    erasure_note="Deleted; the deletion receipt is kept until it is sent, then its record "
    "keeps no address",
    dated_by="created_at",
    retention=Retention(
        "The subject and body are deleted as soon as the email is sent; the address 30 days "
        "after it was sent or given up",
        period=outbox.KEEP_FINISHED,
        expired=outbox.finished_emails,
    ),
)
