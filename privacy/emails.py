"""Privacy emails: export ready, deletion scheduled, deletion receipt.

They are about the account itself, so they go out whatever the person's
notification settings say, in the layout every Lectern email shares
(`templates/account/email/base_message.*`).
"""

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import get_adapter
from django.conf import settings


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def send(template_prefix: str, to: str, context: dict[str, Any]) -> None:
    """Render `<prefix>_subject.txt`, `_message.txt` and `_message.html` and send them to `to`."""
    site = SimpleNamespace(domain=urlsplit(settings.SITE_URL).netloc, name=settings.SITE_NAME)
    message = get_adapter().render_mail(template_prefix, to, {"current_site": site, **context})
    message.send()
