"""Markers for tests that only make sense against a real service.

Without the service configured such a test is skipped, and `-ra` prints why;
CI sets DATABASE_URL and REDIS_URL, so there every one of them runs.
"""

import pytest
from django.conf import settings


def _uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


requires_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs a real Redis: set REDIS_URL=redis://127.0.0.1:6379/1"
)
requires_postgres = pytest.mark.skipif(
    not _uses_postgres(),
    reason="needs a real PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern",
)
