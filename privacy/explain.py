"""What "Explain this page" adds to the policy pages: a hook the ai app fills in.

Privacy sits below the ai app and imports nothing from it. The ai app, in its
AppConfig.ready, says whether summaries can be offered on this server and
where a page's summary lives; without a provider, the pages show no button:

    privacy.explain.provide(available=client.configured, url_for=policies.explain_url)

This module also says what a page *is* for a summary: its text as everyone
sees it, and the version of that text. The Terms and the Privacy Policy are
versioned documents already (`privacy.documents`, the sha256 of the full
text, generated tables included). The Cookies and Subprocessors pages are
built from settings, so their text is written out here from the same lists
their templates show, and its sha256 is their version: switching a service
on or off is a new version, summarised anew. None of it names a person.
"""

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from privacy import cookies as privacy_cookies
from privacy import documents
from privacy import subprocessors as privacy_subprocessors

# The pages that may be explained.
PAGES = ("privacy", "terms", "cookies", "subprocessors")


@dataclass(frozen=True)
class PolicyText:
    """One policy page as a summary is made from it: its title, where it is, and its text."""

    page: str
    title: str
    url: str
    text: str

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def version(self) -> str:
        return self.sha256[:12]


def _cell(text: str) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


def cookies_markdown() -> str:
    """Return the Cookies page as Markdown: the same cookies and words the page shows."""
    lines = [
        "# Cookies",
        "",
        "Every cookie this site sets. All of them are first-party: no advertising, analytics "
        "or other third-party cookies.",
        "",
        "| Name | What it is for | How long it lasts | Kind |",
        "|---|---|---|---|",
    ]
    for cookie in privacy_cookies.declared():
        kind = "Essential" if cookie.essential else "Preference"
        party = "first-party" if cookie.first_party else "third-party"
        lines.append(
            f"| `{_cell(cookie.name)}` | {_cell(cookie.purpose)} | {_cell(cookie.lifetime)} "
            f"| {kind}, {party} |"
        )
    lines += [
        "",
        "Essential cookies are needed for signing in and for forms to work, so they cannot be "
        "switched off. The preference cookie is only set when you pick a colour scheme.",
    ]
    return "\n".join(lines)


def subprocessors_markdown() -> str:
    """Return the Subprocessors page as Markdown: the services configured now."""
    lines = [
        "# Subprocessors",
        "",
        "The outside services this Lectern site is configured to use right now, what each "
        "one receives and why.",
        "",
    ]
    configured = privacy_subprocessors.configured()
    if not configured:
        lines.append(
            "No outside services are configured: this site sends no personal data to anyone "
            "else; email, files and errors all stay on its own server."
        )
        return "\n".join(lines)
    lines += ["| Service | What it receives | Why |", "|---|---|---|"]
    for sub in configured:
        where = sub.detail()
        name = f"{sub.name} ({sub.service}{', ' + where if where else ''})"
        lines.append(f"| {_cell(name)} | {_cell(sub.receives)} | {_cell(sub.why)} |")
    return "\n".join(lines)


def policy_text(page: str) -> PolicyText | None:
    """Return `page` as its summary is made from it, or None for a page that can't be explained."""
    if page in ("privacy", "terms"):
        doc = documents.documents()[page]
        return PolicyText(page, doc.title, reverse(doc.url_name), doc.text)
    if page == "cookies":
        return PolicyText(page, "Cookies", reverse("cookies"), cookies_markdown())
    if page == "subprocessors":
        return PolicyText(page, "Subprocessors", reverse("subprocessors"), subprocessors_markdown())
    return None


@dataclass(frozen=True)
class _Provider:
    available: Callable[[], bool]
    url_for: Callable[[str], str]


_providers: list[_Provider] = []


def provide(*, available: Callable[[], bool], url_for: Callable[[str], str]) -> None:
    """Plug in the ai app: whether summaries can be offered, and where a page's summary is."""
    _providers[:] = [_Provider(available, url_for)]


def available() -> bool:
    """Say whether "Explain this page" can be offered on this server."""
    return bool(_providers) and _providers[0].available()


def url_for(page: str) -> str:
    """Return where `page`'s summary is shown, or "" when it can't be offered."""
    if page not in PAGES or not available():
        return ""
    return _providers[0].url_for(page)
