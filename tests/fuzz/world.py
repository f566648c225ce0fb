"""The world the fuzzer attacks: every URL of the authorization matrix, its forms, its people.

It is built once per test module, inside a transaction rolled back at the end:
the named people and every object the matrix entries need, a signed-in
session per person, and for each URL the forms found on the pages that the
people who may read them are shown. Each case then runs in a savepoint of its
own, rolled back after the request, so every case starts from this same state.
"""

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

from django.conf import settings
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet
from django.test import Client
from django.test.utils import CaptureQueriesContext, ContextList
from django.urls import resolve

from tests.authz import ANON, OK, PERSONS, Entry
from tests.base import make_people
from tests.fuzz import fingerprint
from tests.fuzz.pages import Field, Form, read_page
from tests.fuzz.payloads import Value
from tests.fuzz.stand_ins import StandIns
from tests.test_authorization_matrix import (
    PATTERNS,
    Pattern,
    _make_context,
    _model_admin_page,
    _plain_url,
    _resolve,
    entry_for,
)

ROOT = str(Path(__file__).resolve().parents[2])
# Rows a refused request may still touch: the visitor's own session (a flash message, the
# CSRF token) and the "last seen" of that session.
BOOKKEEPING = frozenset({"django_session", "usersessions_usersession"})
# Refusals that change stored rows by design: URL -> tables, each with its reason. None now.
# New rows are allowed anyway: a refund Stripe refuses leaves its own row, marked failed
# (its key was the idempotency key), and the purchase unchanged.
WRITTEN_WHEN_REFUSED: dict[str, set[str]] = {}
FORM_PAGES = ("changelist", "add", "change")
LOG_IN_PAGES = ("account_login", "admin:login")
# People in time zones far from UTC, so dates in year 1 and 9999 overflow when converted.
TIME_ZONES = {"alice": "Pacific/Kiritimati", "bob": "Pacific/Pago_Pago", "carol": "Asia/Kolkata"}


@dataclass(frozen=True)
class Request:
    """One request to send: `body` raw with its content type, or `data` as a multipart form."""

    method: str
    path: str
    body: bytes | None = None
    content_type: str = "application/octet-stream"
    data: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        sent = self.data if self.data is not None else self.body
        text = repr(sent)
        if len(text) > 300:
            text = text[:300] + f"... ({len(text)} chars)"
        path = self.path if len(self.path) < 200 else self.path[:200] + "..."
        return f"{self.method} {path} [{self.content_type}] {self.headers or ''} {text}"


@dataclass
class Target:
    """One URL pattern with a concrete URL and what the fuzzer knows about it."""

    pattern: Pattern
    entry: Entry
    url: str
    insiders: list[str]
    post_forms: list[Form] = field(default_factory=list)
    get_forms: list[Form] = field(default_factory=list)
    query_names: set[str] = field(default_factory=set)
    # Values in the path the URL pattern captured, which a case may replace.
    captured: list[str] = field(default_factory=list)
    kwargs: dict[str, str] = field(default_factory=dict)

    @property
    def is_admin_model_page(self) -> bool:
        return _model_admin_page(self.pattern) is not None


def encode(pairs: list[tuple[str, Value]]) -> bytes:
    """Percent-encode pairs as a form body or query string, bytes kept as they are."""

    def raw(value: Value) -> bytes:
        return value if isinstance(value, bytes) else value.encode()

    return "&".join(
        f"{quote_from_bytes(raw(name))}={quote_from_bytes(raw(value))}" for name, value in pairs
    ).encode()


def multipart(pairs: list[tuple[str, Value]], files: list[tuple[Field, bytes, str]]) -> dict:
    data: dict[str, list[Any]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    for upload, content, filename in files:
        data.setdefault(upload.name, []).append(
            SimpleUploadedFile(filename, content, content_type="text/html")
        )
    return data


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a savepoint that is always rolled back."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _empty_caches() -> None:
    for backend in caches.all():
        backend.clear()


def _form_errors(response: Any) -> bool:
    """Say whether the page came back with a submitted form that has errors."""
    found = response.context
    contexts = list(found) if isinstance(found, ContextList) else [found] if found else []
    for context in contexts:
        values = context.flatten().values() if hasattr(context, "flatten") else context.values()
        for value in values:
            if isinstance(value, BaseForm) and value.is_bound and value.errors:
                return True
            if isinstance(value, BaseFormSet) and value.is_bound and not value.is_valid():
                return True
    return False


def _where(exc_info: Any) -> str:
    """Name the exception and the last frame of our own code it passed through."""
    if not exc_info:
        return ""
    kind, value, tb = exc_info
    ours = [
        frame
        for frame in traceback.extract_tb(tb)
        if frame.filename.startswith(ROOT) and "/.venv/" not in frame.filename
    ]
    place = f" at {ours[-1].filename.removeprefix(ROOT + '/')}:{ours[-1].lineno}" if ours else ""
    return f" {kind.__name__}: {str(value)[:200]}{place}"


class World:
    def __init__(self, services: StandIns) -> None:
        self.services = services
        people = make_people()
        for name, zone in TIME_ZONES.items():
            people[name].timezone = zone
            people[name].save(update_fields=["timezone"])
        self.ctx = _make_context(people)
        services.fill_rooms()
        self.sessions: dict[str, str] = {}
        for person, username in PERSONS.items():
            if username:
                client = Client()
                client.force_login(
                    people[username], backend="django.contrib.auth.backends.ModelBackend"
                )
                self.sessions[person] = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.targets = {
            pattern.key: target for pattern in PATTERNS if (target := self._target(pattern))
        }
        self._discover()
        self.before = fingerprint.snapshot()

    def _target(self, pattern: Pattern) -> Target | None:
        """Return the pattern's target; None for a pattern the matrix has no entry for yet.

        The matrix test fails for such a pattern; until it has an entry, a pattern
        without arguments is still fuzzed, as a page for everyone.
        """
        entry = entry_for(pattern)
        if entry is None:
            if set("<>()^$?*+[]\\") & set(pattern.route):
                return None
            entry = Entry(get=dict.fromkeys(PERSONS, OK))
        url = entry.url(self.ctx) if entry.url else _plain_url(pattern)
        insiders = []
        for person in PERSONS:
            reads = entry.get is not None and _resolve(entry.get[person], self.ctx) == OK
            post = _resolve(entry.post[person], self.ctx) if entry.post else None
            sends = (
                post is not None and post.status not in (404, 405) and post.to not in LOG_IN_PAGES
            )
            if reads or sends:
                insiders.append(person)
        target = Target(pattern, entry, url, insiders)
        match = resolve(urlsplit(url).path)
        target.kwargs = {name: str(value) for name, value in match.kwargs.items()}
        values = [str(value) for value in [*match.args, *match.kwargs.values()]]
        target.captured = [value for value in values if value and value in url]
        return target

    def _discover(self) -> None:
        """Read the forms of every page as each person who may see it."""
        forms: list[Form] = []
        for target in self.targets.values():
            if target.entry.get is None:
                continue
            readers = [p for p in target.insiders if _resolve(target.entry.get[p], self.ctx) == OK]
            # The people at both ends see the most different pages (a student's enrol
            # button, the owner's editor); the admin shows staff only, and its history,
            # delete and redirect pages repeat forms found elsewhere.
            readers = sorted({*readers[:1], *readers[-1:]}, key=readers.index)
            if target.is_admin_model_page:
                admin_page = _model_admin_page(target.pattern)
                readers = readers[-1:] if admin_page and admin_page[1] in FORM_PAGES else []
            for person in readers:
                with rolled_back():
                    _empty_caches()
                    response = self.client(person).get(target.url)
                if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                page = read_page(target.url, response.content.decode(errors="replace"))
                forms += page.forms
                target.query_names |= page.query_names
        by_path: dict[str, Target] = {}
        for target in self.targets.values():
            by_path.setdefault(urlsplit(target.url).path, target)
        for form in forms:
            if form.action not in by_path:
                continue
            sent_to = by_path[form.action]
            chosen = sent_to.post_forms if form.method == "post" else sent_to.get_forms
            if all(form.fields.keys() != known.fields.keys() for known in chosen):
                chosen.append(form)

    def client(self, person: str) -> Client:
        client = Client(raise_request_exception=False)
        if person != ANON:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[person]
        return client

    def send(self, target: Target, person: str, request: Request) -> str | None:
        """Send one request as `person`; return what went wrong, or None."""
        client = self.client(person)
        response: Any
        with rolled_back():
            _empty_caches()
            self.services.reset()
            with CaptureQueriesContext(connection) as queries:
                if request.data is not None:
                    response = client.post(request.path, request.data, headers=request.headers)
                else:
                    response = client.generic(
                        request.method,
                        request.path,
                        request.body or b"",
                        content_type=request.content_type,
                        headers=request.headers,
                    )
            self.services.tally()
            status = response.status_code
            if response.streaming:
                # Streamed bodies (CSV exports, files) are produced while being read.
                try:
                    b"".join(response.streaming_content)
                except Exception as error:
                    where = _where((type(error), error, error.__traceback__))
                    return f"streaming failed:{where} — as {person}: {request.describe()}"
            if status >= 500:
                return f"{status}{_where(response.exc_info)} — as {person}: {request.describe()}"
            if not (400 <= status < 500 or (status == 200 and _form_errors(response))):
                return None
            touched = fingerprint.written_tables(queries.captured_queries) - BOOKKEEPING
            touched -= WRITTEN_WHEN_REFUSED.get(target.pattern.key, set())
            changed = fingerprint.changed_tables(self.before, touched)
            if changed:
                return (
                    f"refused with {status} but changed stored rows {changed}"
                    f" — as {person}: {request.describe()}"
                )
        return None
