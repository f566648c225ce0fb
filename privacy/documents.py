"""Policy documents: versioned Markdown in the repository.

A version is the sha256 of the document's full text. The privacy policy's
categories, retention and account-deletion sections are generated from the
privacy registry and are part of that text, so a change to any entry or
retention rule is a new version that people are asked to accept again.
"""

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.safestring import SafeString

from core.markdown import render_markdown
from privacy.registry import registry

POLICY_DIR = Path(__file__).resolve().parent / "policies"
RETENTION_MARKER = "<!-- retention-schedule -->"
CATEGORIES_MARKER = "<!-- data-categories -->"
ERASURE_MARKER = "<!-- on-account-deletion -->"


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


def _cell(text: str) -> str:
    # A pipe would split the Markdown table cell; a newline would end the row.
    return " ".join(text.replace("|", "\\|").split())


def _by_category() -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for entry in registry:
        grouped.setdefault(entry.category, []).append(entry)
    return grouped


def _joined(values: list[str]) -> str:
    unique = list(dict.fromkeys(v for v in values if v))
    return "; ".join(unique)


def categories_markdown() -> str:
    """Return each category of personal data, its purpose and legal basis, as a table."""
    lines = ["| What we hold | What it is for | Legal basis |", "|---|---|---|"]
    for category, entries in _by_category().items():
        purpose = _joined([e.purpose for e in entries])
        basis = _joined([f"{str(e.basis).capitalize()}: {e.basis.explanation}" for e in entries])
        lines.append(f"| {_cell(category)} | {_cell(purpose)} | {_cell(basis)} |")
    return "\n".join(lines)


def retention_schedule_markdown() -> str:
    """Return the registry's retention rules, standalone rules included, as a table."""
    lines = ["| What we hold | Why | How long we keep it |", "|---|---|---|"]
    for entry in registry:
        keep = entry.retention.description
        if entry.legal_reason:
            keep = f"{keep} ({entry.legal_reason})"
        lines.append(f"| {_cell(entry.category)} | {_cell(entry.purpose)} | {_cell(keep)} |")
    for rule in sorted(registry.rules.values(), key=lambda r: r.name):
        lines.append(
            f"| {_cell(rule.name)} | {_cell(rule.description)} "
            f"| {_cell(rule.retention.description)} |"
        )
    return "\n".join(lines)


def erasure_markdown() -> str:
    """Return what deleting an account does to each category, as a table."""
    lines = ["| What we hold | When you delete your account |", "|---|---|"]
    for category, entries in _by_category().items():
        outcome = _joined([e.on_erasure for e in entries])
        lines.append(f"| {_cell(category)} | {_cell(outcome)} |")
    return "\n".join(lines)


# Each marker in a policy's Markdown is replaced by a table generated from the
# registry; the generated text is part of the document, so of its version.
GENERATED_SECTIONS = {
    CATEGORIES_MARKER: categories_markdown,
    RETENTION_MARKER: retention_schedule_markdown,
    ERASURE_MARKER: erasure_markdown,
}


def expand_generated(text: str) -> str:
    """Replace every generated-section marker in `text` with its table."""
    for marker, generate in GENERATED_SECTIONS.items():
        if marker in text:
            text = text.replace(marker, generate())
    return text


@functools.cache
def documents() -> dict[str, PolicyDocument]:
    """Load every policy document once per process, keyed by slug."""
    loaded = {}
    for slug, title, url_name, teachers_only in _DOCUMENTS:
        text = (POLICY_DIR / f"{slug}.md").read_text(encoding="utf-8")
        text = expand_generated(text)
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
