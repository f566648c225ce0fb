"""Database helpers shared by every app's services."""

import functools
import time
from collections.abc import Callable

from django.db import OperationalError, connection, transaction

_SQLITE_ATTEMPTS = 40


def atomic_with_sqlite_retry[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in a transaction; on SQLite, retry it while another writer holds the database.

    PostgreSQL lets concurrent writers wait on row locks. SQLite has one writer
    at a time, and its in-memory shared-cache database (the tests' live
    server) answers "locked" at once instead of waiting; a file database can
    also run out of busy timeout under load. Nothing of the refused attempt
    was kept, so the whole transaction runs again. Inside a caller's own
    transaction there is nothing safe to retry, and the error goes up.
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, _SQLITE_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as error:
                retry = (
                    connection.vendor == "sqlite"
                    and not connection.in_atomic_block
                    and "locked" in str(error)
                    and attempt < _SQLITE_ATTEMPTS
                )
                if not retry:
                    raise
                time.sleep(0.005 * attempt)
        raise AssertionError("unreachable")

    return run
