"""Download my data: the request, the ZIP built from the registry, the emailed link.

Design notes.

- One open export per person is enforced by the model's partial unique
  constraint: the request row is inserted first and an IntegrityError means one
  is already being prepared (no exists-then-save race).
- `build` claims the row with a conditional update that stamps `started_at`.
  A queued row, or a running one whose worker died (the message is redelivered
  because tasks acknowledge late and reject on a lost worker), can be claimed
  again; the newest claim owns the row. Finishing is a conditional update on
  that same `started_at`, so when two builders overlap only the latest one
  stores its file; the other throws its ZIP away.
- Each claim records the storage key its ZIP will be saved under before
  building, and deletes the key a previous claim recorded: a worker killed
  between saving the ZIP and marking the row ready leaves no file behind.
- A task lost altogether (the broker forgot it) leaves the row open. The
  retention rule for exports picks up rows queued or running for over
  `STALE_AFTER` and enqueues them again, beside deleting expired files.
- Memory stays flat however large the account is: every exporter yields rows
  from chunked queries, each row is encoded and written at once into the ZIP
  member, the ZIP lives in a temporary file on local disk, uploaded files are
  copied in chunks, and the finished ZIP is handed to storage as a file (S3
  uploads it in parts).
- The "ready" email goes out once: `emailed_at` is claimed with a conditional
  update in the same transaction that queues the email in the outbox, which
  retries it if the mail service is down.
"""

import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename, slugify

from core import jobs, ratelimit, storage
from outbox import services as outbox
from privacy import emails
from privacy.models import ExportRequest, export_key
from privacy.registry import Entry, registry

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DOWNLOAD_SALT = "privacy.export.download"
REQUEST_LIMIT = ratelimit.Limit("privacy-export", count=3, window=24 * 3600)
# A build still open after this long has lost its task; the retention sweep restarts it.
STALE_AFTER = timedelta(hours=1)
# Builds (first run, redeliveries, retries) before the request is marked failed.
MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30
COPY_CHUNK = 1024 * 1024
HISTORY = 5
# Enqueued by name: the tasks module imports this one (core.jobs explains why).
BUILD_TASK = "privacy.tasks.build_export_task"
FAILED_MESSAGE = (
    "Something went wrong while preparing your data. Try again; if it keeps failing, "
    "contact support."
)
# Errors worth another try later: the database, storage or network hiccuped.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseError,
    ConnectionError,
    TimeoutError,
    *storage.TRANSIENT_ERRORS,
)

type Row = dict[str, Any]


class AlreadyPreparingError(Exception):
    """The person already has an export being prepared."""

    def __init__(self, export: ExportRequest | None) -> None:
        super().__init__("An export is already being prepared.")
        self.export = export


class TooManyRequestsError(Exception):
    """The person asked for too many exports in the current window."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many export requests.")
        self.retry_after = retry_after


# --- Asking for an export ---------------------------------------------------------------------


def request_export(user: Any) -> ExportRequest:
    """Queue a new export for `user` and enqueue its build once the row is committed.

    Raise AlreadyPreparingError when one is queued or running, and TooManyRequestsError past
    `REQUEST_LIMIT` (a refused duplicate does not count against the limit).
    """
    current = _open_export(user)
    if current is not None:
        raise AlreadyPreparingError(current)
    verdict = ratelimit.hit(REQUEST_LIMIT, f"user:{user.pk}")
    if not verdict.allowed:
        raise TooManyRequestsError(verdict.retry_after)
    try:
        with transaction.atomic():
            export = ExportRequest.objects.create(user=user)
    except IntegrityError:
        # Another request (a double click, a second tab) won the race.
        raise AlreadyPreparingError(_open_export(user)) from None
    # A broker that can't be reached is logged; the retention sweep enqueues a stale export.
    outbox.enqueue_task_on_commit(jobs.task(BUILD_TASK), export.pk)
    return export


def _open_export(user: Any) -> ExportRequest | None:
    return ExportRequest.objects.filter(user=user, state__in=ExportRequest.OPEN_STATES).first()


def latest_exports(user: Any) -> list[ExportRequest]:
    """Return `user`'s most recent export requests, newest first."""
    return list(ExportRequest.objects.filter(user=user).order_by("-requested_at", "-pk")[:HISTORY])


def panel_context(user: Any) -> dict[str, Any]:
    """Return what `privacy/_export_panel.html` shows: the latest export and short history."""
    exports = latest_exports(user)
    export = exports[0] if exports else None
    return {
        "export": export,
        "exports": exports,
        "download_url": download_path(export) if export and is_downloadable(export) else "",
        "export_days": settings.PRIVACY_EXPORT_DAYS,
    }


# --- Download links ---------------------------------------------------------------------------


def download_token(export: ExportRequest) -> str:
    """Return the signed token of `export`'s download link."""
    return signing.dumps({"e": export.pk, "u": export.user_id}, salt=DOWNLOAD_SALT)


def check_download_token(export: ExportRequest, token: str) -> None:
    """Raise signing.SignatureExpired or BadSignature unless `token` opens `export`."""
    data = signing.loads(
        token, salt=DOWNLOAD_SALT, max_age=timedelta(days=settings.PRIVACY_EXPORT_DAYS)
    )
    if not isinstance(data, dict) or data != {"e": export.pk, "u": export.user_id}:
        raise signing.BadSignature("The token is for another export.")


def download_path(export: ExportRequest) -> str:
    return reverse("privacy:export_download", args=[export.pk, download_token(export)])


def is_downloadable(export: ExportRequest, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    return (
        export.state == ExportRequest.State.READY
        and bool(export.file)
        and export.expires_at is not None
        and export.expires_at > at
    )


def download_filename(export: ExportRequest) -> str:
    day = timezone.localdate(export.finished_at or export.requested_at)
    return f"lectern-data-{day.isoformat()}.zip"


# --- Building the ZIP -------------------------------------------------------------------------


@dataclass
class ModelSummary:
    entry: Entry
    records: int = 0


@dataclass
class FileSummary:
    """One JSON file of the archive: a category and the models whose rows it holds."""

    name: str
    category: str
    models: list[ModelSummary] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(m.records for m in self.models)


@dataclass
class UploadSummary:
    path: str
    original_name: str
    size: int


@dataclass
class ArchiveSummary:
    files: list[FileSummary] = field(default_factory=list)
    uploads: list[UploadSummary] = field(default_factory=list)
    missing_uploads: list[str] = field(default_factory=list)


def category_filename(category: str) -> str:
    """Return the archive name of a category's JSON file, e.g. "messages.json"."""
    return f"{slugify(category) or 'data'}.json"


def _member(zf: zipfile.ZipFile, name: str, *, compress: bool = True) -> IO[bytes]:
    info = zipfile.ZipInfo(name, date_time=timezone.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    # The size isn't known up front; zip64 headers keep members over 2 GiB valid.
    return zf.open(info, "w", force_zip64=True)


def _dump(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def _write_rows(out: IO[bytes], rows: Iterable[Row]) -> int:
    """Write `rows` as a JSON array, one row at a time; return how many there were."""
    count = 0
    out.write(b"[")
    for row in rows:
        out.write(b",\n    " if count else b"\n    ")
        out.write(_dump(row))
        count += 1
    out.write(b"\n  ]" if count else b"]")
    return count


def _write_category(out: IO[bytes], summary: FileSummary, entries: list[Entry], user: Any) -> None:
    out.write(b'{\n  "category": ' + _dump(summary.category) + b',\n  "records": {')
    for index, entry in enumerate(entries):
        out.write(b",\n  " if index else b"\n  ")
        out.write(_dump(entry.label) + b": ")
        model = ModelSummary(entry)
        model.records = _write_rows(out, entry.exporter(user))
        summary.models.append(model)
    out.write(b"\n  }\n}\n")


def _copy_uploads(zf: zipfile.ZipFile, user: Any, summary: ArchiveSummary) -> None:
    for upload in registry.uploads_of(user):
        name = get_valid_filename(upload.name.replace("/", "_")) or "file"
        path = f"files/{upload.key}-{name}"
        try:
            source = upload.blob.open("rb")
        except (FileNotFoundError, IsADirectoryError):
            logger.error("Uploaded file %s has no blob at %s", upload.key, upload.blob.name)
            summary.missing_uploads.append(upload.name)
            continue
        with source, _member(zf, path, compress=False) as target:
            shutil.copyfileobj(source, target, COPY_CHUNK)
        summary.uploads.append(UploadSummary(path, upload.name, upload.size))


def _readme(user: Any, generated_at: datetime, summary: ArchiveSummary) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for f in summary.files:
        entries = [m.entry for m in f.models]
        files[f.name] = {
            "category": f.category,
            "purpose": " ".join(dict.fromkeys(e.purpose.rstrip(".") + "." for e in entries)),
            "legal_basis": [
                {"basis": str(basis), "explanation": basis.explanation}
                for basis in dict.fromkeys(e.basis for e in entries)
            ],
            "retention": list(dict.fromkeys(e.retention.description for e in entries)),
            "records": f.records,
            "models": {
                m.entry.label: {
                    "name": str(m.entry.model._meta.verbose_name_plural).capitalize(),
                    "purpose": m.entry.purpose,
                    "legal_basis": str(m.entry.basis),
                    "legal_basis_explanation": m.entry.basis.explanation,
                    "retention": m.entry.retention.description,
                    "when_you_delete_your_account": m.entry.on_erasure,
                    "records": m.records,
                    "fields": m.entry.schema,
                }
                for m in f.models
            },
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at,
        "account": {"id": user.pk, "email": user.email},
        "format": (
            "Each JSON file holds one category: {'category': name, 'records': {model: "
            "[record, ...]}}. 'files' below describes every file and every field of its "
            "records."
        ),
        "files": files,
        "uploads": {
            "folder": "files/",
            "description": "The files you uploaded, named <id>-<original name>",
            "count": len(summary.uploads),
            "missing": summary.missing_uploads,
        },
        "index": "index.html: a readable summary of this archive; open it in a browser",
    }


def write_archive(
    target: IO[bytes],
    user: Any,
    *,
    generated_at: datetime | None = None,
    entries: Iterable[Entry] | None = None,
) -> ArchiveSummary:
    """Write `user`'s data as a ZIP into `target`, streaming every category and file."""
    generated_at = generated_at or timezone.now()
    summary = ArchiveSummary()
    chosen = sorted(registry if entries is None else entries, key=lambda e: (e.category, e.label))
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for category, group in groupby(chosen, key=lambda e: e.category):
            part = FileSummary(category_filename(category), category)
            with _member(zf, part.name) as out:
                _write_category(out, part, list(group), user)
            summary.files.append(part)
        _copy_uploads(zf, user, summary)
        with _member(zf, "README.json") as out:
            out.write(
                json.dumps(
                    _readme(user, generated_at, summary), cls=DjangoJSONEncoder, indent=2
                ).encode()
            )
        index = render_to_string(
            "privacy/export/index.html",
            {"person": user, "generated_at": generated_at, "summary": summary},
        )
        with _member(zf, "index.html") as out:
            out.write(index.encode())
    return summary


@dataclass(frozen=True)
class _Claim:
    stamp: datetime
    key: str  # where this claim's ZIP goes in storage


def _claim(export_id: int) -> _Claim | None:
    """Take the build of an open export; return the claim, or None if it is not open."""
    stamp = timezone.now()
    key = export_key(None, "export.zip")
    earlier = ExportRequest.objects.filter(pk=export_id).values_list("file", flat=True).first()
    claimed = ExportRequest.objects.filter(
        pk=export_id, state__in=ExportRequest.OPEN_STATES
    ).update(
        state=ExportRequest.State.RUNNING,
        started_at=stamp,
        attempts=F("attempts") + 1,
        file=key,
    )
    if not claimed:
        return None
    if earlier:
        # What an earlier, interrupted claim may have saved before it could finish.
        default_storage.delete(earlier)
    return _Claim(stamp, key)


def _schedule(export_id: int, attempts: int) -> None:
    countdown = RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    transaction.on_commit(
        lambda: jobs.task(BUILD_TASK).apply_async((export_id,), countdown=countdown)
    )


def build(export_id: int) -> None:
    """Build the ZIP of one export request, store it and email the link (idempotent).

    A repeated or redelivered run of a finished export only makes sure the
    email went out. A redelivered run of an unfinished one claims it again and
    starts over; the earlier builder, if still alive, loses its claim and
    discards its work. Transient errors put the request back in the queue with
    a growing delay; anything else, or `MAX_ATTEMPTS` runs, marks it failed.
    """
    claim = _claim(export_id)
    if claim is None:
        done = ExportRequest.objects.filter(pk=export_id).select_related("user").first()
        if done is not None and done.state == ExportRequest.State.READY:
            send_ready_email(done)
        return
    export = ExportRequest.objects.select_related("user").get(pk=export_id)
    mine = ExportRequest.objects.filter(
        pk=export_id, state=ExportRequest.State.RUNNING, started_at=claim.stamp
    )
    if export.attempts > MAX_ATTEMPTS:
        mine.update(
            state=ExportRequest.State.FAILED,
            finished_at=timezone.now(),
            error=(f"Gave up after {MAX_ATTEMPTS} attempts"),
            file="",
        )
        return
    try:
        stored_name, size = _build_file(export, claim)
    except TRANSIENT_ERRORS as exc:
        logger.warning("export %s hit a transient error", export_id, exc_info=True)
        if export.attempts < MAX_ATTEMPTS:
            if mine.update(state=ExportRequest.State.QUEUED, error=_describe(exc)):
                _schedule(export_id, export.attempts)
        else:
            mine.update(
                state=ExportRequest.State.FAILED,
                finished_at=timezone.now(),
                error=_describe(exc),
                file="",
            )
        return
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        mine.update(
            state=ExportRequest.State.FAILED,
            finished_at=timezone.now(),
            error=_describe(exc),
            file="",
        )
        return
    finished = timezone.now()
    won = mine.update(
        state=ExportRequest.State.READY,
        file=stored_name,
        size=size,
        finished_at=finished,
        expires_at=finished + timedelta(days=settings.PRIVACY_EXPORT_DAYS),
        error="",
    )
    if not won:
        # A newer claim owns the row: its own file will be stored, not this one.
        default_storage.delete(stored_name)
        return
    export.refresh_from_db()
    send_ready_email(export)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _build_file(export: ExportRequest, claim: _Claim) -> tuple[str, int]:
    with tempfile.TemporaryFile(prefix="lectern-export-", suffix=".zip") as tmp:
        write_archive(tmp, export.user, generated_at=claim.stamp)
        size = tmp.tell()
        tmp.seek(0)
        name = default_storage.save(claim.key, File(tmp, name="export.zip"))
    return name, size


# --- The email ----------------------------------------------------------------------------------


def send_ready_email(export: ExportRequest) -> bool:
    """Queue the email with `export`'s download link unless it was queued already.

    Return True when this call queued it. The claim on `emailed_at` and the
    outbox row commit together, and the outbox retries a failed send, so the
    email goes out once.
    """
    user = export.user
    context = {
        "user": user,
        "export": export,
        "download_url": emails.absolute(download_path(export)),
        "privacy_url": emails.absolute(reverse("privacy:dashboard")),
        "expires_at": export.expires_at,
        "export_days": settings.PRIVACY_EXPORT_DAYS,
    }
    with transaction.atomic():
        claimed = ExportRequest.objects.filter(
            pk=export.pk, state=ExportRequest.State.READY, emailed_at__isnull=True
        ).update(emailed_at=timezone.now())
        if not claimed:
            return False
        emails.send(
            "privacy/email/export_ready", user.email, context, key=f"export-ready:{export.pk}"
        )
    return True


# --- Retention and erasure ----------------------------------------------------------------------


def expired_exports() -> QuerySet:
    """Ready exports whose link has expired, and open ones whose task was lost.

    The second kind is not data to delete: the sweep that runs this rule is the
    periodic job that notices a build nobody is running any more, and
    `purge_expired_exports` enqueues it again.
    """
    now = timezone.now()
    stale = now - STALE_AFTER
    return ExportRequest.objects.filter(
        Q(state=ExportRequest.State.READY, expires_at__lte=now)
        | Q(state=ExportRequest.State.QUEUED, requested_at__lt=stale, started_at__isnull=True)
        | Q(state__in=ExportRequest.OPEN_STATES, started_at__lt=stale)
    )


def purge_expired_exports(batch: QuerySet) -> int:
    """Delete the files of a batch of expired exports and mark them expired.

    Stale open exports in the batch are enqueued again instead.
    """
    now = timezone.now()
    touched = 0
    for export in batch.filter(state=ExportRequest.State.READY, expires_at__lte=now):
        if export.file:
            export.file.delete(save=False)
        touched += ExportRequest.objects.filter(
            pk=export.pk, state=ExportRequest.State.READY
        ).update(state=ExportRequest.State.EXPIRED, file="")
    stale = list(batch.filter(state__in=ExportRequest.OPEN_STATES).values_list("pk", flat=True))
    for pk in stale:
        transaction.on_commit(partial(jobs.task(BUILD_TASK).delay, pk))
    return touched + len(stale)


def erase_exports(user: Any) -> int:
    """Delete every export of `user`, files included (the account's eraser).

    Safe to run twice: a second run finds nothing. A build still running for
    the person finds its row gone and stores nothing.
    """
    exports = ExportRequest.objects.filter(user=user)
    names = [name for name in exports.values_list("file", flat=True) if name]
    for name in names:
        default_storage.delete(name)
    deleted, _ = exports.delete()
    return deleted
