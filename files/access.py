"""Who may download a stored file: each app that gives files a meaning says so for its own.

A file is course material, a cover, part of a submission or a message
attachment, but this app knows none of those: the apps above it register a
download rule in their `downloads.py`, which this app discovers the way
Django discovers `admin.py`. A rule answers True or False for the files it
speaks for and None for the others. Rules are asked from the app
highest in the stack down, because a higher app's use of a file is the more
specific one (a message attachment also names its course), and the first
answer decides. A file no rule speaks for is for its uploader only.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404

from files.models import StoredFile

type Verdict = bool | None


@dataclass(frozen=True)
class DownloadRule:
    may_download: Callable[[Any, StoredFile], Verdict]
    # The relations the rule reads, loaded with the file in the same query.
    related: tuple[str, ...] = ()
    # Says whether the file is the same for everyone (a public cover), so it may be cached.
    is_public: Callable[[StoredFile], bool] | None = None


_rules: list[DownloadRule] = []


def register_download_rule(
    may_download: Callable[[Any, StoredFile], Verdict],
    *,
    related: tuple[str, ...] = (),
    is_public: Callable[[StoredFile], bool] | None = None,
) -> None:
    """Add a rule; apps register in INSTALLED_APPS order, so the latest is asked first."""
    _rules.insert(0, DownloadRule(may_download, related, is_public))


def may_download(user: Any, stored: StoredFile) -> bool:
    """Say whether `user` may download `stored`."""
    for rule in _rules:
        verdict = rule.may_download(user, stored)
        if verdict is not None:
            return verdict
    return bool(user.is_authenticated) and stored.uploaded_by_id == user.pk


def get_file_for_user(user: Any, file_id: int) -> StoredFile:
    """Return a stored file `user` may download; Http404 for any other, existing or not."""
    related = sorted({path for rule in _rules for path in rule.related})
    stored = get_object_or_404(StoredFile.objects.select_related(*related), pk=file_id)
    if not may_download(user, stored):
        raise Http404
    return stored


def is_public(stored: StoredFile) -> bool:
    """Say whether the file is shown to anyone who asks, so a shared cache may keep it."""
    return any(rule.is_public is not None and rule.is_public(stored) for rule in _rules)
