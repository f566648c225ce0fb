"""Restore a backup written by `manage.py backup`, then check it: see `core.backups`."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from core.backups import BackupError, archive
from core.backups.database import database_for


class Command(BaseCommand):
    help = (
        "Restore a backup (a folder, a .tar of one, or - for a tar on standard input) into an "
        "empty database and media folder, then check every table and file against its manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="The backup folder, its .tar, or - for standard input.")
        parser.add_argument(
            "--database-url",
            default="",
            help="Restore into this database instead of DATABASE_URL's (it must be empty).",
        )
        parser.add_argument(
            "--media-root",
            default="",
            help="Put the files into this folder instead of MEDIA_ROOT (it must be empty).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Drop every table already in the database and write over files of the same name.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only check the backup (manifest, checksums, readable dump); restore nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            settings_dict = (
                dict(dj_database_url.parse(options["database_url"]))
                if options["database_url"]
                else connections["default"].settings_dict
            )
        except ValueError as error:
            raise CommandError(f"--database-url is not a database URL: {error}") from error
        media_root = Path(options["media_root"]).resolve() if options["media_root"] else None
        try:
            with self._unpacked(options["source"]) as folder:
                if options["check"]:
                    manifest = archive.check_backup(folder)
                    for line in archive.summary_lines(manifest):
                        self.stdout.write(line)
                    self.stdout.write(
                        f"The backup from {manifest['created_at']} is complete and readable."
                    )
                    return
                report = archive.restore_backup(
                    folder,
                    database=database_for(settings_dict),
                    storage=storages["default"],
                    media_root=media_root,
                    force=options["force"],
                    say=self.stdout.write,
                )
        except BackupError as error:
            raise CommandError(str(error)) from error
        for line in report.lines + report.notes:
            self.stdout.write(line)
        if report.problems:
            for problem in report.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(
                f"The restored data differs from the backup in {len(report.problems)} "
                "places (listed above)."
            )
        self.stdout.write(self.style.SUCCESS("Every table and file matches the backup."))

    @contextmanager
    def _unpacked(self, source: str) -> Iterator[Path]:
        """Yield the backup folder, unpacking a tar (file or stream) into a scratch folder first."""
        path = None if source == "-" else Path(source)
        if path is not None and not path.is_file():
            yield path
            return
        with archive.scratch_folder() as scratch:
            yield archive.unpack(path, scratch)
