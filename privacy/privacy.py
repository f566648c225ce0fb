from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

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
