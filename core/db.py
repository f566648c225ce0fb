"""Database helpers shared by every app's services."""

import functools
import time
from collections.abc import Callable

from django.db import OperationalError, connection, transaction
from django.db.models import Field, Model

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


def _column(field: Field) -> str:
    column = field.column
    assert column is not None, f"{field} has no column"
    return column


@functools.cache
def _insert_sql(
    model: type[Model], conflict_column: str, vendor: str
) -> tuple[str, tuple[Field, ...]]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(f)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(model._meta.db_table)
    # Only the model's own table and column names, quoted, are put in the SQL.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
    sql += f"ON CONFLICT ({quote(conflict_column)}) DO NOTHING"
    return sql, fields


def insert_unless_present(obj: Model, unique_field: str) -> bool:
    """INSERT `obj` in one statement unless a row with its `unique_field` exists; True if it did.

    `INSERT … ON CONFLICT DO NOTHING` on PostgreSQL and SQLite alike: a
    duplicate raises nothing (so no savepoint is needed inside a transaction),
    costs no read-back, and two concurrent inserts of one value end with one
    row, the second waiting for the first to commit. Values are prepared as the
    ORM prepares them (defaults, `auto_now_add`, JSON, time zones); `obj.pk`
    stays unset.
    """
    model = type(obj)
    unique = model._meta.get_field(unique_field)
    assert isinstance(unique, Field)
    sql, fields = _insert_sql(model, _column(unique), connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1
