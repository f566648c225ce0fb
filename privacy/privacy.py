from datetime import timedelta
from typing import Any

from django.utils import timezone

from privacy.models import PolicyAcceptance
from privacy.registry import Erasure, Retention, register

_ACCEPTANCE_KEEP = timedelta(days=730)


def _anonymise_acceptances(user: Any) -> int:
    return PolicyAcceptance.objects.filter(user=user).update(
        user=None, user_deleted_at=timezone.now()
    )


def _sweep_acceptances() -> int:
    cutoff = timezone.now() - _ACCEPTANCE_KEEP
    deleted, _ = PolicyAcceptance.objects.filter(user_deleted_at__lt=cutoff).delete()
    return deleted


register(
    PolicyAcceptance,
    category="Policy acceptances",
    purpose="Proof of which version of each policy you agreed to, and when",
    owner="user",
    fields=["document", "sha256", "accepted_at"],
    erasure=Erasure.KEEP,
    eraser=_anonymise_acceptances,
    legal_reason="kept, unlinked from you, as evidence of consent",
    retention=Retention(
        "While your account exists, then 24 months after it is deleted",
        period=_ACCEPTANCE_KEEP,
        sweep=_sweep_acceptances,
    ),
)
