"""Policy documents: versioned Markdown in the repository.

A version is the sha256 of the document's full text. The privacy policy's
retention section is generated from the privacy registry and is part of that
text, so a change to any retention rule is a new version that people are asked
to accept again.
"""

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.safestring import SafeString

from core.markdown import render_markdown

POLICY_DIR = Path(__file__).resolve().parent / "policies"
RETENTION_MARKER = "<!-- retention-schedule -->"


@dataclass(frozen=True)
class PolicyDocument:
    slug: str
    title: str
    url_name: str
    teachers_only: bool
    text: str

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def version(self) -> str:
        return self.sha256[:12]

    @functools.cached_property
    def html(self) -> SafeString:
        return render_markdown(self.text)


_DOCUMENTS = (
    ("terms", "Terms of Service", "terms", False),
    ("privacy", "Privacy Policy", "privacy_policy", False),
    ("instructor-agreement", "Instructor Agreement", "instructor_agreement", True),
    ("community-guidelines", "Community Guidelines", "community_guidelines", False),
)


def retention_schedule_markdown() -> str:
    """Return the registry's retention rules as a Markdown table."""
    from privacy.registry import registry

    lines = ["| What we hold | Why | How long we keep it |", "|---|---|---|"]
    for entry in registry:
        keep = entry.retention.description
        if entry.legal_reason:
            keep = f"{keep} ({entry.legal_reason})"
        lines.append(f"| {entry.category} | {entry.purpose} | {keep} |")
    return "\n".join(lines)


@functools.cache
def documents() -> dict[str, PolicyDocument]:
    """Load every policy document once per process, keyed by slug."""
    loaded = {}
    for slug, title, url_name, teachers_only in _DOCUMENTS:
        text = (POLICY_DIR / f"{slug}.md").read_text(encoding="utf-8")
        if RETENTION_MARKER in text:
            text = text.replace(RETENTION_MARKER, retention_schedule_markdown())
        loaded[slug] = PolicyDocument(slug, title, url_name, teachers_only, text)
    return loaded


def required_for(user: Any) -> list[PolicyDocument]:
    """Return the documents `user` must have accepted in their current version."""
    return [
        doc
        for doc in documents().values()
        if not doc.teachers_only or getattr(user, "is_teacher", False)
    ]


def fingerprint(docs: list[PolicyDocument]) -> str:
    """Return one hash naming this exact set of document versions."""
    return hashlib.sha256("".join(sorted(d.sha256 for d in docs)).encode()).hexdigest()
