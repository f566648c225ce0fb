"""What support requests hold about people.

A request keeps the name, address and message the person sent, and the staff
replies to it. A person's requests are the ones sent from their account and
the ones sent without signing in from their account's address (or another
address they verified): both are in their export and are deleted with their
account. Every request is deleted 24 months after it is closed, or after its
last activity when nobody closed it.
"""

from collections.abc import Iterator
from typing import Any

from allauth.account.models import EmailAddress
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from privacy.registry import EXPORT_CHUNK, Retention, register
from support import services
from support.models import SupportReply, SupportRequest

RETENTION = Retention(
    "24 months after the request is closed (or after its last activity, if it was never "
    "closed), or until your account is deleted",
    period=services.KEEP_AFTER_CLOSING,
    expired=services.expired_requests,
)
REQUEST_FIELDS = [
    "id",
    "name",
    "email",
    "category",
    "message",
    "status",
    "created_at",
    "answered_at",
    "closed_at",
]
REPLY_FIELDS = ["request_id", "text", "sent_at"]


def _requests_of(user: Any) -> QuerySet[SupportRequest]:
    # The account's address, and any other it verified (read before the erasure removes them).
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    addresses = {address.lower() for address in (user.email, *verified) if address}
    signed_out = Q(user__isnull=True, email_lower__in=addresses)
    return SupportRequest.objects.alias(email_lower=Lower("email")).filter(
        Q(user=user) | signed_out
    )


def _export_requests(user: Any) -> Iterator[dict[str, Any]]:
    rows = _requests_of(user).order_by("pk").values(*REQUEST_FIELDS)
    return rows.iterator(chunk_size=EXPORT_CHUNK)


def _erase_requests(user: Any) -> int:
    deleted, _ = _requests_of(user).delete()
    return deleted


def _replies_of(user: Any) -> QuerySet[SupportReply]:
    return SupportReply.objects.filter(request__in=_requests_of(user))


def _export_replies(user: Any) -> Iterator[dict[str, Any]]:
    rows = _replies_of(user).order_by("pk").values(*REPLY_FIELDS)
    return rows.iterator(chunk_size=EXPORT_CHUNK)


def _erase_replies(user: Any) -> int:
    deleted, _ = _replies_of(user).delete()
    return deleted


register(
    SupportRequest,
    category="Support requests",
    purpose="Answering what you asked the team running this server, from the Contact us page "
    "or Help",
    owner="user",
    rows=_requests_of,
    exporter=_export_requests,
    eraser=_erase_requests,
    schema={
        "id": "The request's number",
        "name": "The name you gave",
        "email": "The address answers go to",
        "category": "The topic you chose: account, billing, courses, privacy or other",
        "message": "What you wrote",
        "status": "Open, answered or closed",
        "created_at": "When you sent it",
        "answered_at": "When staff last answered",
        "closed_at": "When it was closed",
    },
    dated_by="created_at",
    retention=RETENTION,
)
register(
    SupportReply,
    category="Support requests",
    purpose="The answers staff sent you, kept with your request",
    owner="request__user",
    rows=_replies_of,
    exporter=_export_replies,
    eraser=_erase_replies,
    schema={
        "request_id": "The number of the request it answers",
        "text": "The answer, as emailed to you",
        "sent_at": "When it was sent",
    },
    dated_by="sent_at",
    retention=Retention(
        "Kept with its request, and deleted with it: 24 months after the request is closed, "
        "or when your account is deleted"
    ),
)
