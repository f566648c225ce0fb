"""Dumping and restoring the database: PostgreSQL through its own tools, SQLite through its API.

Each kind offers the same few operations to `core.backups.archive`: dump to a file
and say what the dump holds (row counts per table, migrations applied), list the
tables already there, drop them, restore a dump, and count rows again.

PostgreSQL: the row counts must describe exactly what pg_dump writes, while the
site keeps running. So one read-only REPEATABLE READ transaction exports its
snapshot, counts the rows in it, and pg_dump is told to dump that same snapshot
(`--snapshot`); nothing committed in between shows in either.
"""

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django.db.backends.postgresql.client import DatabaseClient
from psycopg import sql

from core.backups import BackupError

# Connection settings libpq understands; the rest of Django's OPTIONS (the pool,
# prepared statements) mean nothing to a one-off connection or to pg_dump.
_LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "service",
    "passfile",
    "connect_timeout",
    "target_session_attrs",
    "options",
    "application_name",
    "gssencmode",
    "channel_binding",
}
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


@dataclass
class DumpFacts:
    """What a dump holds, read from the very state that was dumped."""

    tables: dict[str, int]
    migrations: list[str]
    details: dict[str, Any] = field(default_factory=dict)


class PostgresDatabase:
    engine = "postgresql"
    dump_name = "database.dump"

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self.settings = {**settings_dict, "OPTIONS": dict(settings_dict.get("OPTIONS") or {})}

    @property
    def label(self) -> str:
        where = self.settings.get("HOST") or "the local socket"
        return f"PostgreSQL database {self.settings.get('NAME')!r} on {where}"

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection:
        options = self.settings.get("OPTIONS") or {}
        params = {key: value for key, value in options.items() if key in _LIBPQ_OPTIONS}
        names = {"NAME": "dbname", "USER": "user", "PASSWORD": "password", "HOST": "host"}
        names["PORT"] = "port"
        for key, name in names.items():
            if self.settings.get(key):
                params[name] = str(self.settings[key])
        try:
            return psycopg.connect(autocommit=autocommit, **params)
        except psycopg.Error as error:
            raise BackupError(f"Can't connect to the {self.label}: {_first_line(error)}") from error

    def dump(self, path: Path) -> DumpFacts:
        pg_dump, client_version = _tool("pg_dump")
        with self.connect() as conn:
            server_version = conn.info.server_version // 10000
            if _major(client_version) < server_version:
                raise BackupError(
                    f"pg_dump {client_version} can't dump a PostgreSQL {server_version} server: "
                    f"install postgresql-client-{server_version} (or newer) and try again."
                )
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            tables = self._tables(conn)
            counts = {name: self._count(conn, name) for name in tables}
            migrations = self._migrations(conn) if "public.django_migrations" in counts else []
            self._run(
                [pg_dump, "--format=custom", f"--snapshot={row[0]}", f"--file={path}"],
                with_dbname=True,
            )
            conn.rollback()
        details = {
            "server_version": server_version,
            "pg_dump_version": client_version,
            "pg_dump_major": _major(client_version),
        }
        return DumpFacts(tables=counts, migrations=migrations, details=details)

    def check_dump(self, path: Path) -> None:
        """Read the dump's table of contents: pg_restore refuses a damaged or foreign file."""
        pg_restore, _version = _tool("pg_restore")
        self._run([pg_restore, "--list", str(path)], with_dbname=False, connect=False)

    def check_tools(self, details: dict[str, Any]) -> None:
        _pg_restore, version = _tool("pg_restore")
        written_by = int(details.get("pg_dump_major") or 0)
        if _major(version) < written_by:
            raise BackupError(
                f"This backup was written by pg_dump {details.get('pg_dump_version')}; "
                f"pg_restore {version} can't read it. Install postgresql-client-{written_by} "
                "(or newer) and try again."
            )

    def table_names(self) -> list[str]:
        with self.connect() as conn:
            return self._tables(conn, include_views=True)

    def drop_everything(self) -> None:
        """Drop every table and view, so the restore starts from an empty database."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT table_schema, table_name, table_type FROM information_schema.tables "
                "WHERE table_schema NOT IN (%s, %s) AND table_schema NOT LIKE 'pg_%%'",
                _SYSTEM_SCHEMAS,
            ).fetchall()
            for schema, name, kind in rows:
                what = sql.SQL("VIEW" if kind == "VIEW" else "TABLE")
                statement = sql.SQL("DROP {} IF EXISTS {} CASCADE")
                conn.execute(statement.format(what, sql.Identifier(schema, name)))

    def restore(self, path: Path) -> None:
        pg_restore, _version = _tool("pg_restore")
        # One transaction: a restore that fails part-way leaves the database as empty as it was.
        # No owners or grants: the roles of the server the backup came from may not exist here.
        command = [pg_restore, "--no-owner", "--no-privileges", "--single-transaction"]
        command += ["--exit-on-error", f"--dbname={self.settings.get('NAME')}", str(path)]
        self._run(command, with_dbname=False)

    def row_counts(self, tables: list[str]) -> dict[str, int | None]:
        """Count each table's rows; None for a table that isn't there."""
        with self.connect() as conn:
            present = set(self._tables(conn))
            return {t: self._count(conn, t) if t in present else None for t in tables}

    def migrations(self) -> list[str]:
        with self.connect() as conn:
            present = "public.django_migrations" in self._tables(conn)
            return self._migrations(conn) if present else []

    def _tables(self, conn: psycopg.Connection, *, include_views: bool = False) -> list[str]:
        kinds = ["BASE TABLE", "VIEW"] if include_views else ["BASE TABLE"]
        rows = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN (%s, %s) AND table_schema NOT LIKE 'pg_%%' "
            "AND table_type = ANY(%s) ORDER BY 1, 2",
            (*_SYSTEM_SCHEMAS, kinds),
        ).fetchall()
        return [f"{schema}.{name}" for schema, name in rows]

    def _count(self, conn: psycopg.Connection, table: str) -> int:
        schema, name = table.split(".", 1)
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
        row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0])

    def _migrations(self, conn: psycopg.Connection) -> list[str]:
        rows = conn.execute("SELECT app, name FROM public.django_migrations ORDER BY id").fetchall()
        return [f"{app}.{name}" for app, name in rows]

    def _run(self, command: list[str], *, with_dbname: bool, connect: bool = True) -> None:
        env = dict(os.environ)
        if connect:
            _args, extra = DatabaseClient.settings_to_cmd_args_env(self.settings, [])
            env.update(extra or {})
            for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
                if self.settings.get(key):
                    command.append(f"{option}={self.settings[key]}")
            if with_dbname:
                command.append(f"--dbname={self.settings.get('NAME')}")
        # The command and its arguments are built here, never from outside input.
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            message = result.stderr.strip().splitlines()[-3:] or [
                f"exit status {result.returncode}"
            ]
            name = Path(command[0]).name
            raise BackupError(f"{name} failed: " + " / ".join(message))


class SqliteDatabase:
    engine = "sqlite"
    dump_name = "database.sqlite3"

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self.name = str(settings_dict["NAME"])

    @property
    def label(self) -> str:
        return f"SQLite database {self.name}"

    def connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(self.name, uri=self.name.startswith("file:"), timeout=20)
        except sqlite3.Error as error:
            raise BackupError(f"Can't open the {self.label}: {error}") from error

    def dump(self, path: Path) -> DumpFacts:
        """Copy the live database with SQLite's online backup API, then describe the copy."""
        with closing(self.connect()) as source, closing(sqlite3.connect(path)) as copy:
            source.backup(copy)
            tables = _sqlite_tables(copy)
            counts = {name: _sqlite_count(copy, name) for name in tables}
            migrations = _sqlite_migrations(copy) if "django_migrations" in counts else []
            details = {"sqlite_version": sqlite3.sqlite_version}
        return DumpFacts(tables=counts, migrations=migrations, details=details)

    def check_dump(self, path: Path) -> None:
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as copy:
                row = copy.execute("PRAGMA quick_check").fetchone()
        except sqlite3.Error as error:
            raise BackupError(
                f"The database file in this backup is not readable: {error}"
            ) from error
        if not row or row[0] != "ok":
            raise BackupError(f"The database file in this backup is damaged: {row}")

    def check_tools(self, details: dict[str, Any]) -> None:
        """Nothing to install: SQLite comes with Python."""

    def table_names(self) -> list[str]:
        if not self.name.startswith("file:") and not Path(self.name).exists():
            return []
        with closing(self.connect()) as conn:
            return _sqlite_tables(conn, include_views=True)

    def drop_everything(self) -> None:
        """Nothing to do: the backup API replaces the whole database."""

    def restore(self, path: Path) -> None:
        if not self.name.startswith("file:"):
            Path(self.name).parent.mkdir(parents=True, exist_ok=True)
        with (
            closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source,
            closing(self.connect()) as target,
        ):
            source.backup(target)

    def row_counts(self, tables: list[str]) -> dict[str, int | None]:
        with closing(self.connect()) as conn:
            present = set(_sqlite_tables(conn))
            return {t: _sqlite_count(conn, t) if t in present else None for t in tables}

    def migrations(self) -> list[str]:
        with closing(self.connect()) as conn:
            present = "django_migrations" in _sqlite_tables(conn)
            return _sqlite_migrations(conn) if present else []


type Database = PostgresDatabase | SqliteDatabase


def database_for(settings_dict: dict[str, Any]) -> Database:
    """Return the backup operations for a Django DATABASES entry."""
    engine = str(settings_dict.get("ENGINE", ""))
    if engine.endswith("postgresql"):
        return PostgresDatabase(settings_dict)
    if engine.endswith("sqlite3"):
        return SqliteDatabase(settings_dict)
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {engine or 'this database'}.")


def _sqlite_tables(conn: sqlite3.Connection, *, include_views: bool = False) -> list[str]:
    kinds = ("table", "view") if include_views else ("table",)
    rows = conn.execute(
        "SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    return [name for name, kind in rows if kind in kinds]


def _sqlite_count(conn: sqlite3.Connection, table: str) -> int:
    quoted = '"' + table.replace('"', '""') + '"'
    # The name comes from sqlite_master and is quoted as an identifier.
    return int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])  # noqa: S608  # nosec B608


def _sqlite_migrations(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()
    return [f"{app}.{name}" for app, name in rows]


def _tool(name: str) -> tuple[str, str]:
    """Find a PostgreSQL client program on PATH and return it with its version ("15.20")."""
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client tools "
            "(e.g. apt-get install postgresql-client) of the server's version or newer."
        )
    # `path` is the program found on PATH above.
    output = subprocess.run(  # noqa: S603
        [path, "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"(\d+(?:\.\d+)?)", output)
    if not match:
        raise BackupError(f"Can't tell which version {path} is: {output.strip()!r}")
    return path, match.group(1)


def _major(version: str) -> int:
    return int(version.split(".")[0])


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
