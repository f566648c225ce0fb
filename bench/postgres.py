"""The benchmarks' own PostgreSQL databases, and Django set up on one in this process."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ensure_database(url: str) -> None:
    """Create the database `url` names if it does not exist yet (PostgreSQL URLs only)."""
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    """Set Django up in this process on the production settings and `url`'s migrated database.

    For benchmarks that time services directly rather than through HTTP: no
    connection pool, so each statement is the only thing measured.
    """
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get(
            "SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"
        ),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        DATABASE_POOL="0",
    )
    ensure_database(url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=os.environ,
        check=True,
    )
    import django

    django.setup()
