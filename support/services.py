"""Taking support requests and answering them.

Every write goes through here: the contact and help views store a request and
queue its email to the team in one transaction; the admin replies, closes and
reopens. Spam is turned away before this (`support.views`): a honeypot and
rate limits.
"""

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from support import emails
from support.models import SupportReply, SupportRequest

Status = SupportRequest.Status
# Requests are deleted this long after they are closed (or last touched, when never closed).
KEEP_AFTER_CLOSING = dt.timedelta(days=730)


@transaction.atomic
def submit_request(
    *, name: str, email: str, category: str, message: str, user: User | None = None
) -> SupportRequest:
    """Store a request and queue its email to the team."""
    support_request = SupportRequest.objects.create(
        user=user, name=name, email=email, category=category, message=message
    )
    emails.send_request_to_support(support_request)
    return support_request


@transaction.atomic
def reply(*, support_request: SupportRequest, staff: User, text: str) -> SupportReply:
    """Keep a staff reply with the request, email it to the person, and mark it answered."""
    locked = SupportRequest.objects.select_for_update().get(pk=support_request.pk)
    now = timezone.now()
    answer = SupportReply.objects.create(request=locked, staff=staff, text=text, sent_at=now)
    locked.status = Status.ANSWERED
    locked.answered_at = now
    locked.closed_at = None
    locked.last_activity_at = now
    locked.save(update_fields=["status", "answered_at", "closed_at", "last_activity_at"])
    emails.send_reply_to_person(answer)
    support_request.refresh_from_db()
    return answer


def close(requests: QuerySet[SupportRequest]) -> int:
    """Close the requests not closed yet; return how many were closed."""
    now = timezone.now()
    return requests.exclude(status=Status.CLOSED).update(
        status=Status.CLOSED, closed_at=now, last_activity_at=now
    )


def reopen(requests: QuerySet[SupportRequest]) -> int:
    """Open closed requests again, for more work; return how many were reopened."""
    now = timezone.now()
    return requests.filter(status=Status.CLOSED).update(
        status=Status.OPEN, closed_at=None, last_activity_at=now
    )


def expired_requests(at: dt.datetime | None = None) -> QuerySet[SupportRequest]:
    """Return requests closed, or left untouched if never closed, longer than we keep them."""
    cutoff = (at or timezone.now()) - KEEP_AFTER_CLOSING
    return SupportRequest.objects.filter(
        Q(closed_at__lt=cutoff) | Q(closed_at__isnull=True, last_activity_at__lt=cutoff)
    )
