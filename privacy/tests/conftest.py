"""Fixtures for the privacy app's tests: the shared people, and editable policies."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from privacy import documents
from tests.conftest import *  # noqa: F403

type EditPolicy = Callable[[str, str], documents.PolicyDocument]


@pytest.fixture
def edit_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EditPolicy]:
    """Return a function that appends text to a policy document, making a new version.

    The documents are copied to a temporary folder first, so the repository's
    files are never touched, and the loaded-documents cache is cleared on both
    sides of the test.
    """
    folder = tmp_path / "policies"
    shutil.copytree(documents.POLICY_DIR, folder)
    monkeypatch.setattr(documents, "POLICY_DIR", folder)
    documents.documents.cache_clear()

    def edit(slug: str, addition: str) -> documents.PolicyDocument:
        path = folder / f"{slug}.md"
        path.write_text(path.read_text(encoding="utf-8") + f"\n{addition}\n", encoding="utf-8")
        documents.documents.cache_clear()
        return documents.documents()[slug]

    yield edit
    documents.documents.cache_clear()
