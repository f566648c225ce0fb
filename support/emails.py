"""Support emails: a new request to the team, a staff reply to the person.

Rendered in the caller's transaction, in the layout every Lectern email
shares, and sent by the outbox once it commits: a mail server that is down
delays them, it never loses a request or an answer. Each is keyed by its own
row, so it is queued once.
"""

from email.utils import formataddr
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.urls import reverse

from outbox import services as outbox
from support.models import SupportReply, SupportRequest


def _send(
    template_prefix: str, to: str, context: dict[str, Any], *, key: str, reply_to: str
) -> None:
    message = get_adapter().render_mail(template_prefix, to, context)
    message.reply_to = [reply_to]
    outbox.enqueue_email(key=key, message=message)


def send_request_to_support(support_request: SupportRequest) -> None:
    """Email a new request to SUPPORT_EMAIL; answering the email writes to the person."""
    admin_path = reverse("admin:support_supportrequest_change", args=[support_request.pk])
    _send(
        "support/email/new_request",
        settings.SUPPORT_EMAIL,
        {"support_request": support_request, "admin_url": f"{settings.SITE_URL}{admin_path}"},
        key=f"support-request:{support_request.pk}",
        reply_to=formataddr((support_request.name, support_request.email)),
    )


def send_reply_to_person(reply: SupportReply) -> None:
    """Email a staff reply to the person who asked; answering it writes to SUPPORT_EMAIL."""
    support_request = reply.request
    _send(
        "support/email/reply",
        support_request.email,
        {"support_request": support_request, "reply": reply},
        key=f"support-reply:{reply.pk}",
        reply_to=settings.SUPPORT_EMAIL,
    )
