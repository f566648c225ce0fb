"""Back up the database and the uploaded files: see `core.backups`."""

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from core.backups import BackupError, archive
from core.backups.database import database_for

PRIVACY_NOTE = (
    "This backup holds everyone's personal data (accounts, messages, submissions, payment "
    "records): keep it as private as the database itself, off this server, and delete old "
    "ones on the schedule your privacy policy promises."
)


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, or SQLite's backup API) and the uploaded files (or a "
        "listing of the S3 bucket) into one private folder with a manifest.json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            default="",
            help=(
                "Where to write the backup: a new folder (default var/backups/<UTC time>), "
                "a file name ending in .tar for one archive, or - to stream a tar to "
                "standard output."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: str = options["output"]
        streaming = output == "-"

        def say(line: str) -> None:
            # A streamed backup owns standard output; the messages go to standard error.
            if streaming:
                self.stderr.write(line, style_func=lambda text: text)
            else:
                self.stdout.write(line)

        database = database_for(connections["default"].settings_dict)
        storage = storages["default"]
        try:
            if streaming or output.endswith(".tar"):
                target = None if streaming else Path(output).resolve()
                if target is not None:
                    if target.exists():
                        raise BackupError(f"{target} already exists: choose a new name.")
                    target.parent.mkdir(parents=True, exist_ok=True)
                with archive.scratch_folder(None if target is None else target.parent) as scratch:
                    folder = scratch / "backup"
                    manifest = archive.create_backup(
                        folder, database=database, storage=storage, say=say
                    )
                    archive.write_tar(folder, target)
                where = "standard output" if target is None else str(target)
            else:
                folder = Path(output) if output else self._default_folder()
                manifest = archive.create_backup(
                    folder, database=database, storage=storage, say=say
                )
                where = str(folder)
        except BackupError as error:
            raise CommandError(str(error)) from error
        for line in archive.summary_lines(manifest):
            say(line)
        say(f"Backup written to {where} (readable by its owner only).")
        say(PRIVACY_NOTE)

    def _default_folder(self) -> Path:
        parent = Path(settings.BASE_DIR) / "var" / "backups"
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return parent / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
