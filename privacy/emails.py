"""Privacy emails: export ready, deletion scheduled, deletion receipt.

They are about the account itself, so they go out whatever the person's
notification settings say, in the layout every Lectern email shares
(`templates/account/email/base_message.*`). They are rendered here, in the
caller's transaction, and sent by the outbox once it commits.
"""

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import get_adapter
from django.conf import settings

from outbox import services as outbox


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def send(
    template_prefix: str,
    to: str,
    context: dict[str, Any],
    *,
    key: str,
    forget_recipient: bool = False,
) -> None:
    """Render `<prefix>_subject.txt`, `_message.txt` and `_message.html` and queue them to `to`.

    `key` names the event the email is about, so it is queued at most once.
    `forget_recipient` drops the address from the outbox once the email is sent.
    """
    site = SimpleNamespace(domain=urlsplit(settings.SITE_URL).netloc, name=settings.SITE_NAME)
    message = get_adapter().render_mail(template_prefix, to, {"current_site": site, **context})
    outbox.enqueue_email(key=key, message=message, forget_recipient=forget_recipient)
