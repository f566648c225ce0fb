"""The policy pages: public, versioned by the sha256 of their text, retention from the registry."""

import dataclasses
import hashlib
import re

import pytest
from django.test import Client
from django.utils.html import escape

from privacy import documents
from privacy.models import PolicyAcceptance
from privacy.registry import Retention, registry
from privacy.tests.conftest import EditPolicy

PAGES = [
    ("/terms/", "terms", "Terms of Service"),
    ("/privacy/", "privacy", "Privacy Policy"),
    ("/instructor-agreement/", "instructor-agreement", "Instructor Agreement"),
    ("/community-guidelines/", "community-guidelines", "Community Guidelines"),
]


def _source(slug: str) -> str:
    return (documents.POLICY_DIR / f"{slug}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("url", "slug", "title"), PAGES)
def test_it_starts_each_document_with_its_title_and_effective_date(
    url: str, slug: str, title: str
) -> None:
    lines = _source(slug).splitlines()
    assert lines[0] == f"# {title}"
    assert any(re.search(r"Effective\b.*2026-11-21", line) for line in lines[:5])


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "slug", "title"), PAGES)
def test_it_shows_each_policy_to_anonymous_visitors(
    client: Client, url: str, slug: str, title: str
) -> None:
    doc = documents.documents()[slug]
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert title in html
    assert doc.version in html
    assert len(doc.version) == 12


@pytest.mark.parametrize(("url", "slug", "title"), PAGES)
def test_it_versions_each_document_by_the_sha256_of_its_text(
    url: str, slug: str, title: str
) -> None:
    doc = documents.documents()[slug]
    served = documents.expand_generated(_source(slug))
    assert doc.text == served
    assert doc.sha256 == hashlib.sha256(served.encode()).hexdigest()
    assert doc.version == doc.sha256[:12]


@pytest.mark.django_db
def test_it_renders_the_retention_schedule_from_the_registry(client: Client) -> None:
    assert documents.RETENTION_MARKER in _source("privacy")
    doc = documents.documents()["privacy"]
    html = client.get("/privacy/").content.decode()
    assert "Policy acceptances" in html
    for entry in registry:
        assert escape(entry.category) in html, entry.label
        assert escape(entry.retention.description) in html, entry.label
    assert "retention-schedule" not in doc.text
    assert "retention-schedule" not in html
    assert "<table>" in html


@pytest.mark.django_db
def test_it_shows_a_new_version_when_the_text_changes(
    client: Client, edit_policy: EditPolicy
) -> None:
    before = documents.documents()["terms"]
    after = edit_policy("terms", "A clause added for this test.")
    assert after.sha256 != before.sha256
    assert after.sha256 == hashlib.sha256(after.text.encode()).hexdigest()
    html = client.get("/terms/").content.decode()
    assert after.version in html
    assert before.version not in html
    assert "A clause added for this test." in html


@pytest.mark.django_db
def test_it_gives_the_privacy_policy_a_new_version_when_a_retention_rule_changes(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = documents.documents()["privacy"]
    label = PolicyAcceptance._meta.label
    changed = dataclasses.replace(
        registry.entries[label], retention=Retention("Three days after the heat death")
    )
    monkeypatch.setitem(registry.entries, label, changed)
    documents.documents.cache_clear()
    try:
        after = documents.documents()["privacy"]
        assert after.sha256 != before.sha256
        assert "Three days after the heat death" in client.get("/privacy/").content.decode()
    finally:
        monkeypatch.undo()
        documents.documents.cache_clear()
    assert documents.documents()["privacy"].sha256 == before.sha256


def test_it_keeps_only_safe_html_in_the_rendered_documents() -> None:
    for doc in documents.documents().values():
        assert "<script" not in doc.html
        assert doc.html.startswith("<h1>")
