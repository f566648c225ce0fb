"""Writing a backup folder with its manifest, and restoring and checking one.

The database is dumped before the files are collected: a file uploaded in
between is merely extra in the backup, whereas the other order would lose a
file whose row made it into the dump. A backup may also travel as one tar of
its folder (`--output backup.tar`, or `-` for a stream through a pipe).
"""

import datetime as dt
import json
import os
import shutil
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.files.storage import Storage
from django.db.migrations.loader import MigrationLoader

from core.backups import BackupError, media
from core.backups.database import Database, DumpFacts, PostgresDatabase, SqliteDatabase

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_TAR = "media.tar"

type Say = Callable[[str], None]


@dataclass
class Report:
    """What a restore found: lines to show, and every difference from the manifest."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- Backing up -------------------------------------------------------------------


def create_backup(
    destination: Path, *, database: Database, storage: Storage, say: Say
) -> dict[str, Any]:
    """Write a backup folder at `destination` (created private) and return its manifest."""
    kind = media.storage_kind(storage)
    _make_private_folder(destination)
    try:
        say(f"Dumping the {database.label}…")
        database_entry, facts = _dump_database(destination, database)
        if kind == "local":
            say(f"Collecting the uploaded files under {media.local_location(storage)}…")
            media_entry = _collect_files(destination, storage)
        else:
            say("Listing the objects in the bucket (the files themselves stay there)…")
            media_entry = {"storage": "s3", **media.list_bucket(storage)}
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "app": {"name": "lectern", "version": app_version()},
            "django_version": django.get_version(),
            "database": database_entry,
            "migrations": facts.migrations,
            "tables": facts.tables,
            "media": media_entry,
        }
        manifest_path = _private_file(destination / MANIFEST)
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        # A half-written backup must not sit there looking like a good one.
        shutil.rmtree(destination, ignore_errors=True)
        raise
    return manifest


def _dump_database(destination: Path, database: Database) -> tuple[dict[str, Any], DumpFacts]:
    dump_path = _private_file(destination / database.dump_name)
    facts = database.dump(dump_path)
    os.chmod(dump_path, 0o600)
    entry = {
        "engine": database.engine,
        "file": database.dump_name,
        "size": dump_path.stat().st_size,
        "sha256": media.file_sha256(dump_path),
        **facts.details,
    }
    return entry, facts


def _collect_files(destination: Path, storage: Storage) -> dict[str, Any]:
    tar_path = _private_file(destination / MEDIA_TAR)
    files = media.write_tar(media.local_location(storage), tar_path, skip=destination.resolve())
    return {
        "storage": "local",
        "file": MEDIA_TAR,
        "size": tar_path.stat().st_size,
        "sha256": media.file_sha256(tar_path),
        "files": files,
    }


def summary_lines(manifest: dict[str, Any]) -> list[str]:
    rows = sum(manifest["tables"].values())
    lines = [f"Database: {len(manifest['tables'])} tables, {rows} rows."]
    entry = manifest["media"]
    if entry["storage"] == "local":
        size = sum(f["size"] for f in entry["files"])
        lines.append(f"Files: {len(entry['files'])} ({size} bytes), with their sha256.")
    else:
        lines.append(
            f"Files: {len(entry['objects'])} objects listed in the bucket {entry['bucket']!r} "
            "(they stay in the bucket: keep it versioned)."
        )
    return lines


def write_tar(folder: Path, target: Path | None) -> None:
    """Pack a backup folder into one private tar file, or stream it to stdout (`target` None)."""
    if target is None:
        with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as tar:
            _add_folder(tar, folder)
        sys.stdout.buffer.flush()
        return
    _private_file(target)
    with tarfile.open(target, "w") as tar:
        _add_folder(tar, folder)


def _add_folder(tar: tarfile.TarFile, folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        tar.add(str(path), arcname=path.name)


@contextmanager
def scratch_folder(near: Path | None = None) -> Iterator[Path]:
    """A private temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="lectern-backup-", dir=near))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- Restoring ----------------------------------------------------------------------


def unpack(source: Path | None, into: Path) -> Path:
    """Unpack a backup tar (a file, or stdin when `source` is None) into `into`."""
    if source is None and sys.stdin.isatty():
        raise BackupError("Pipe the backup into standard input: restore - < backup.tar")
    try:
        if source is None:
            with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as tar:
                tar.extractall(into, filter="data")
        else:
            with tarfile.open(source) as tar:
                tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        name = "standard input" if source is None else str(source)
        reason = (str(error).splitlines() or ["unreadable"])[0].rstrip(":")
        raise BackupError(f"{name} is not a readable backup archive: {reason}") from error
    return into


def read_manifest(folder: Path) -> dict[str, Any]:
    """Load and check a backup's manifest and the sha256 of its dump and tar."""
    if not folder.exists():
        raise BackupError(f"There is no backup at {folder}.")
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"{folder} is not a Lectern backup: it has no {MANIFEST} "
            "(an interrupted backup leaves none; use another one)."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        database = manifest["database"]
        entry = manifest["media"]
        if not isinstance(manifest["tables"], dict) or entry["storage"] not in ("local", "s3"):
            raise ValueError("unexpected layout")
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"The manifest of {folder} is damaged: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{folder} was written in backup format {manifest.get('format')}; "
            f"this version of Lectern reads format {FORMAT}."
        )
    parts = [database] + ([entry] if entry["storage"] == "local" else [])
    for part in parts:
        file = folder / part["file"]
        if not file.is_file():
            raise BackupError(f"The backup at {folder} is incomplete: {part['file']} is missing.")
        if media.file_sha256(file) != part["sha256"]:
            raise BackupError(
                f"The backup at {folder} is damaged: {part['file']} does not match "
                "the sha256 in its manifest."
            )
    return manifest


def check_backup(folder: Path) -> dict[str, Any]:
    """Check a backup without restoring it: manifest, checksums, and that the dump reads."""
    manifest = read_manifest(folder)
    reader: Database
    if manifest["database"]["engine"] == "sqlite":
        reader = SqliteDatabase({"NAME": ":memory:"})
    else:
        reader = PostgresDatabase({})
        reader.check_tools(manifest["database"])
    reader.check_dump(folder / manifest["database"]["file"])
    return manifest


def restore_backup(
    folder: Path,
    *,
    database: Database,
    storage: Storage,
    media_root: Path | None,
    force: bool,
    say: Say,
) -> Report:
    """Restore a backup into an empty database and media folder, then check it."""
    manifest = read_manifest(folder)
    written = manifest["database"]["engine"]
    if written != database.engine:
        raise BackupError(
            f"This backup holds a {written} database; the target is the {database.label}. "
            f"Restore it into a {written} database (set DATABASE_URL or --database-url)."
        )
    database.check_tools(manifest["database"])
    kind = manifest["media"]["storage"]
    location = _media_target(kind, storage, media_root)

    existing = database.table_names()
    if existing and not force:
        raise BackupError(
            f"The {database.label} is not empty ({len(existing)} tables, e.g. {existing[0]}). "
            "Restore into a new, empty database (point DATABASE_URL or --database-url at it), "
            "or pass --force to drop everything in this one first."
        )
    if location is not None:
        present = next(media.local_files(location), None)
        if present is not None and not force:
            raise BackupError(
                f"The media folder {location} already holds files (e.g. {present}). "
                "Restore into an empty folder (MEDIA_ROOT or --media-root), "
                "or pass --force to write over files of the same name."
            )

    if existing:
        say(f"Dropping the {len(existing)} tables already in the {database.label}…")
        database.drop_everything()
    say(f"Restoring the database into the {database.label}…")
    database.restore(folder / manifest["database"]["file"])
    if location is not None:
        say(f"Putting {len(manifest['media']['files'])} files back under {location}…")
        media.extract_tar(folder / manifest["media"]["file"], location)
    return verify(manifest, database=database, storage=storage, location=location)


def verify(
    manifest: dict[str, Any], *, database: Database, storage: Storage, location: Path | None
) -> Report:
    """Count every table and check every file against the manifest."""
    report = Report()
    expected: dict[str, int] = manifest["tables"]
    counts = database.row_counts(list(expected))
    for table, rows in expected.items():
        found = counts.get(table)
        if found is None:
            report.problems.append(f"table {table} is missing")
        elif found != rows:
            report.problems.append(f"table {table} has {found} rows, the backup had {rows}")
    report.lines.append(
        f"Database: {len(expected)} tables checked, {sum(expected.values())} rows expected."
    )
    restored = database.migrations()
    if restored != manifest["migrations"]:
        report.problems.append("the migrations recorded in the database differ from the manifest")
    report.notes.extend(_migration_notes(restored))

    entry = manifest["media"]
    if location is not None:
        report.problems.extend(media.check_local(location, entry["files"]))
        size = sum(f["size"] for f in entry["files"])
        report.lines.append(f"Files: {len(entry['files'])} checked ({size} bytes, sha256).")
    else:
        report.problems.extend(media.check_bucket(storage, entry))
        report.lines.append(f"Files: {len(entry['objects'])} objects checked in the bucket.")
    return report


def _media_target(kind: str, storage: Storage, media_root: Path | None) -> Path | None:
    """Where the backup's files go back: a local folder, or None when they stay on S3."""
    current = media.storage_kind(storage)
    if kind == "s3":
        if current != "s3":
            raise BackupError(
                "This backup's files are in an S3 bucket (listed in its manifest), but file "
                "storage here is a local folder: set AWS_STORAGE_BUCKET_NAME and the other "
                "AWS_* settings, then restore again."
            )
        return None
    if media_root is not None:
        return media_root
    if current != "local":
        raise BackupError(
            "This backup holds the uploaded files for a local folder, but file storage here is "
            "an S3 bucket. Restore with local storage (--media-root PATH), then copy the "
            "files into the bucket."
        )
    return media.local_location(storage)


def _migration_notes(restored: list[str]) -> list[str]:
    """Say whether the restored database is behind or ahead of this code's migrations."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    in_code = {f"{app}.{name}" for app, name in loader.disk_migrations}
    pending = in_code - set(restored)
    unknown = set(restored) - in_code
    notes = []
    if pending:
        notes.append(
            f"{len(pending)} migrations of this version are not applied yet: "
            "run `manage.py migrate` before starting the site."
        )
    if unknown:
        notes.append(
            f"{len(unknown)} applied migrations are unknown to this code "
            f"(e.g. {sorted(unknown)[0]}): "
            "the backup comes from a newer version of Lectern; run that version."
        )
    return notes


def app_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _make_private_folder(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} already exists: choose a new place for this backup.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def _private_file(path: Path) -> Path:
    """Create `path` empty and readable by its owner alone, before anything is written to it."""
    if path.exists():
        raise BackupError(f"{path} already exists: choose a new place for this backup.")
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(path, 0o600)
    return path
