"""Backups that restore: the database, the uploaded files and a manifest to check them by.

A backup is one private folder (or a tar of it) holding:

- `database.dump` (pg_dump custom format) or `database.sqlite3` (SQLite's online
  backup API), taken as one consistent snapshot;
- `media.tar`, every file of local upload storage, or, with S3, nothing: the
  objects stay in the bucket and the manifest lists them;
- `manifest.json`: when, the app version, the migrations applied, row counts per
  table (read from the same snapshot as the dump), and each file's path, size and
  sha256 (or each object's key, size, etag and last change), plus the sha256 of
  the dump and the tar so a damaged backup is refused before anything is touched.

A restore goes into an empty database only (unless forced), then counts every
table and hashes every file again and reports what differs from the manifest.
The backup holds everyone's personal data, so it is written readable by its
owner alone.
"""


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""
