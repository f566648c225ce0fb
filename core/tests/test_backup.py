"""A backup restores: every row and every file comes back, and a bad backup is refused clearly.

The round trip runs against whichever database the suite uses: PostgreSQL in CI
(pg_dump / pg_restore from PATH, restored into a second, fresh database), or the
embedded SQLite default (its online backup API, restored into a new file).
"""

import hashlib
import io
import json
import sqlite3
import stat
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import SimpleTestCase, TransactionTestCase, override_settings
from PIL import Image
from psycopg import sql

from accounts.models import User
from courses.models import Course
from files import services as file_services
from files.tests.files_kit import use_s3
from tests.base import TeacherFactory

_engine = settings.DATABASES["default"]["ENGINE"]
_on_postgres = _engine == "django.db.backends.postgresql"
_on_sqlite = _engine == "django.db.backends.sqlite3"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def _call(name: str, *args: Any, **options: Any) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


class RoundTrip:
    """The checks shared by the PostgreSQL and the SQLite variants."""

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        scratch = tempfile.TemporaryDirectory(prefix="lectern-backup-test-")
        self.addCleanup(scratch.cleanup)  # type: ignore[attr-defined]
        self.scratch = Path(scratch.name)
        self.media_root = self.scratch / "media"
        storages = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(self.media_root)},
            },
        }
        override = override_settings(STORAGES=storages, MEDIA_ROOT=str(self.media_root))
        override.enable()
        self.addCleanup(override.disable)  # type: ignore[attr-defined]
        self.teacher: User = TeacherFactory.create(email="alice@example.com", first_name="Alice")
        self.course: Course | None = None

    # Each variant says how to reach a fresh database and how to read a table's content.
    def fresh_database_url(self) -> str:
        raise NotImplementedError

    def table_fingerprints(self, url: str | None) -> dict[str, tuple[int, str]]:
        raise NotImplementedError

    def upload(self, name: str, content: bytes, purpose: str = "material") -> None:
        file_services.store_upload(
            uploaded_by=self.teacher,
            course=self.course,
            upload=SimpleUploadedFile(name, content),
            purpose=purpose,
        )

    def test_it_restores_every_row_and_file(self) -> None:
        _call("seed_demo")
        self.teacher = User.objects.get(email="teacher@lectern.localhost")
        self.course = Course.objects.filter(teacher=self.teacher).first()
        self.upload("notes.txt", b"Week one: colour wheels.\n" * 50)
        self.upload("cover.png", _png(), purpose="cover")
        self.upload("grid.csv", b"name,score\nalice,9\nbob,7\n", purpose="attachment")
        backup = self.scratch / "backup"
        output = _call("backup", output=str(backup))
        assert "personal data" in output

        assert stat.S_IMODE(backup.stat().st_mode) == 0o700
        for part in backup.iterdir():
            assert stat.S_IMODE(part.stat().st_mode) == 0o600, part
        manifest = json.loads((backup / "manifest.json").read_text())
        assert manifest["app"]["version"]
        assert any(m.startswith("files.") for m in manifest["migrations"])
        assert len(manifest["media"]["files"]) == 3

        url = self.fresh_database_url()
        restored_media = self.scratch / "restored-media"
        output = _call("restore", str(backup), database_url=url, media_root=str(restored_media))
        assert "Every table and file matches the backup." in output

        source = self.table_fingerprints(None)
        restored = self.table_fingerprints(url)
        assert len(source) > 50
        assert sum(rows for rows, _digest in source.values()) > 100
        assert restored == source
        originals = sorted(p for p in self.media_root.rglob("*") if p.is_file())
        assert len(originals) == 3
        for original in originals:
            copy = restored_media / original.relative_to(self.media_root)
            assert copy.read_bytes() == original.read_bytes()

        # Once restored, the database is no longer empty: only --force writes over it.
        with pytest.raises(CommandError, match=r"is not empty \(\d+ tables.*--force"):
            _call("restore", str(backup), database_url=url, media_root=str(restored_media))
        output = _call(
            "restore", str(backup), database_url=url, media_root=str(restored_media), force=True
        )
        assert "Every table and file matches the backup." in output
        assert self.table_fingerprints(url) == source

    def test_it_writes_and_checks_a_single_tar_archive(self) -> None:
        self.upload("notes.txt", b"Bring brushes.\n")
        archive_path = self.scratch / "backup.tar"
        _call("backup", output=str(archive_path))
        assert stat.S_IMODE(archive_path.stat().st_mode) == 0o600
        output = _call("restore", str(archive_path), check=True)
        assert "Files: 1 (15 bytes), with their sha256." in output
        assert "is complete and readable" in output

    def test_it_refuses_a_damaged_backup_before_touching_anything(self) -> None:
        backup = self.scratch / "backup"
        _call("backup", output=str(backup))
        manifest = json.loads((backup / "manifest.json").read_text())
        dump = backup / manifest["database"]["file"]
        data = bytearray(dump.read_bytes())
        data[len(data) // 2] ^= 0xFF
        dump.write_bytes(bytes(data))
        url = self.fresh_database_url()
        with pytest.raises(CommandError, match=r"damaged: database.* does not match the sha256"):
            _call("restore", str(backup), database_url=url, media_root=str(self.scratch / "m"))
        assert self.table_fingerprints(url) == {}

    def test_it_lists_s3_objects_and_reports_one_gone_missing(self) -> None:
        s3 = use_s3(self, "lectern-backup-test")  # type: ignore[arg-type]
        self.upload("notes.txt", b"Kept in the bucket.\n")
        self.upload("more.txt", b"Also in the bucket.\n")
        backup = self.scratch / "backup"
        _call("backup", output=str(backup))
        assert not (backup / "media.tar").exists()
        listing = json.loads((backup / "manifest.json").read_text())["media"]
        assert listing["storage"] == "s3"
        assert listing["bucket"] == "lectern-backup-test"
        keys = sorted(item["key"] for item in listing["objects"])
        head = s3.head_object(Bucket="lectern-backup-test", Key=keys[0])
        first = next(item for item in listing["objects"] if item["key"] == keys[0])
        assert first["size"] == head["ContentLength"]
        assert first["etag"] == head["ETag"].strip('"')

        s3.delete_object(Bucket="lectern-backup-test", Key=keys[0])
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match="differs from the backup in 1 places"):
            call_command(
                "restore",
                str(backup),
                database_url=self.fresh_database_url(),
                stdout=out,
                stderr=err,
            )
        assert "2 objects checked in the bucket" in out.getvalue()
        assert f"object {keys[0]} is missing from the bucket" in err.getvalue()


@pytest.mark.skipif(
    not _on_postgres,
    reason="needs a real PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern",
)
class PostgresBackupTests(RoundTrip, TransactionTestCase):
    def _url_for(self, name: str) -> str:
        s = connection.settings_dict
        auth = quote(s["USER"] or "", safe="")
        if s.get("PASSWORD"):
            auth += ":" + quote(s["PASSWORD"], safe="")
        host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        return f"postgres://{auth}@{host}/{name}"

    def _admin(self) -> psycopg.Connection:
        s = connection.settings_dict
        return psycopg.connect(
            dbname="postgres",
            user=s["USER"] or None,
            password=s.get("PASSWORD") or None,
            host=s["HOST"] or None,
            port=s["PORT"] or None,
            autocommit=True,
        )

    def source_database_url(self) -> str:
        return self._url_for(connection.settings_dict["NAME"])

    def fresh_database_url(self) -> str:
        name = f"{connection.settings_dict['NAME']}_restore"
        with self._admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.addCleanup(self._drop, name)
        return self._url_for(name)

    def _drop(self, name: str) -> None:
        with self._admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def table_fingerprints(self, url: str | None) -> dict[str, tuple[int, str]]:
        """Each table's row count and a hash of its rows' text, in a stable order."""
        conninfo = url or self.source_database_url()
        with psycopg.connect(conninfo.replace("postgres://", "postgresql://", 1)) as conn:
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            ).fetchall()
            found = {}
            for schema, name in tables:
                query = sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(md5(t::text), ',' "
                    "ORDER BY md5(t::text)), '')) FROM {} t"
                ).format(sql.Identifier(schema, name))
                row = conn.execute(query).fetchone()
                assert row is not None
                found[f"{schema}.{name}"] = (int(row[0]), str(row[1]))
        return found


@pytest.mark.skipif(
    not _on_sqlite,
    reason="the SQLite variant runs on the embedded default (no DATABASE_URL); "
    "PostgresBackupTests covers PostgreSQL",
)
class SqliteBackupTests(RoundTrip, TransactionTestCase):
    def fresh_database_url(self) -> str:
        path = (
            self.scratch / f"restored-{len(list(self.scratch.glob('restored-*.sqlite3')))}.sqlite3"
        )
        return f"sqlite:///{path}"

    def table_fingerprints(self, url: str | None) -> dict[str, tuple[int, str]]:
        if url is None:
            # The suite's shared in-memory database, read without Django's type converters.
            conn = sqlite3.connect(connection.settings_dict["NAME"], uri=True)
        else:
            path = Path(url.removeprefix("sqlite:///"))
            if not path.exists():
                return {}
            conn = sqlite3.connect(path)
        found = {}
        names = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for (name,) in names:
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            digest = hashlib.sha256("\n".join(sorted(repr(r) for r in rows)).encode()).hexdigest()
            found[name] = (len(rows), digest)
        conn.close()
        return found


class BadBackupTests(SimpleTestCase):
    def test_it_says_when_there_is_no_backup(self) -> None:
        with pytest.raises(CommandError, match="There is no backup at /nowhere/backup"):
            _call("restore", "/nowhere/backup", check=True)

    def test_it_says_when_a_folder_is_not_a_backup(self) -> None:
        with (
            tempfile.TemporaryDirectory() as folder,
            pytest.raises(CommandError, match="not a Lectern backup: it has no manifest"),
        ):
            _call("restore", folder, check=True)

    def test_it_says_when_a_manifest_is_damaged(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "manifest.json").write_text("{")
            with pytest.raises(CommandError, match=r"manifest of .* is damaged"):
                _call("restore", folder, check=True)

    def test_it_says_when_an_archive_is_cut_short(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            archive_path = Path(folder, "backup.tar")
            archive_path.write_bytes(b"not a tar at all" * 10)
            with pytest.raises(CommandError, match="not a readable backup archive"):
                _call("restore", str(archive_path), check=True)
