"""What the accounts tests share: sign-up data, links from sent emails, page text."""

import html
import re
from typing import Any

from django.core import mail

from tests.base import PASSWORD

NEW_PASSWORD = "a brand new passphrase 2026"
_LINK = re.compile(r"https?://[^\s\"'<>]+")


def signup_data(**overrides: Any) -> dict[str, Any]:
    """Return a complete, valid teacher sign-up; `overrides` change or drop fields (None)."""
    data: dict[str, Any] = {
        "first_name": "Nora",
        "last_name": "Newman",
        "email": "nora@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "role": "teacher",
        "organisation_name": "Nora's Music School",
        "country": "US",
        "age_band": "16plus",
        "accept_terms": "on",
        "accept_privacy": "on",
        "accept_community-guidelines": "on",
        "accept_instructor-agreement": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def page_text(response: Any) -> str:
    """Return the response body with HTML entities decoded, for looking for messages."""
    return html.unescape(response.content.decode())


def links_in_last_email(to: str | None = None) -> list[str]:
    """Return the links of the newest sent email (to `to`, when given)."""
    messages = [m for m in mail.outbox if to is None or to in m.to]
    assert messages, f"no email was sent{f' to {to}' if to else ''}"
    message = messages[-1]
    bodies = [str(message.body)] + [str(alt[0]) for alt in getattr(message, "alternatives", [])]
    return [html.unescape(link) for body in bodies for link in _LINK.findall(body)]


def link_in_last_email(containing: str, to: str | None = None) -> str:
    """Return the path of the first link in the newest email whose URL contains `containing`."""
    for link in links_in_last_email(to):
        if containing in link:
            return re.sub(r"^https?://[^/]+", "", link)
    raise AssertionError(f"no link containing {containing!r} in {links_in_last_email(to)}")
