from typing import Any

from django.db import transaction
from django.utils import timezone

from privacy import documents
from privacy.models import PolicyAcceptance


def missing_acceptances(user: Any) -> list[documents.PolicyDocument]:
    """Return the required documents whose current version `user` has not accepted."""
    required = documents.required_for(user)
    accepted = set(
        PolicyAcceptance.objects.filter(
            user=user, sha256__in=[d.sha256 for d in required]
        ).values_list("document", "sha256")
    )
    return [d for d in required if (d.slug, d.sha256) not in accepted]


@transaction.atomic
def record_acceptances(*, user: Any, docs: list[documents.PolicyDocument]) -> None:
    """Record that `user` accepts the current version of each document, once."""
    now = timezone.now()
    PolicyAcceptance.objects.bulk_create(
        [
            PolicyAcceptance(user=user, document=d.slug, sha256=d.sha256, accepted_at=now)
            for d in docs
        ],
        ignore_conflicts=True,
    )
