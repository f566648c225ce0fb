"""Database helpers shared by every app's services."""

import functools
import time
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Field, Model
from django.db.models.fields import NOT_PROVIDED

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


def _left_to_database(field: Field) -> bool:
    """Whether an INSERT that leaves `field` out gives it the value the ORM would."""
    return field.db_default is not NOT_PROVIDED or (field.null and not field.has_default())


@functools.cache
def _insert_sql(
    model: type[Model], given: frozenset[str], conflict_column: str, vendor: str
) -> tuple[str, tuple[Field, ...]]:
    fields = tuple(
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and (f.name in given or not _left_to_database(f))
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(f)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(model._meta.db_table)
    # Only the model's own table and column names, quoted, are put in the SQL.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608  # nosec B608
    sql += f"ON CONFLICT ({quote(conflict_column)}) DO NOTHING"
    return sql, fields


class JsonText(str):
    """JSON already written out (a webhook's body as received): stored as it is."""


def insert_unless_present(model: type[Model], unique_field: str, values: dict[str, Any]) -> bool:
    """INSERT a `model` row of `values` unless one with the same `unique_field` exists.

    Returns whether it inserted. `INSERT … ON CONFLICT DO NOTHING` on
    PostgreSQL and SQLite alike: a duplicate raises nothing (so no savepoint
    is needed inside a transaction) and reads nothing back, and two
    concurrent inserts of one value end with one row, the second waiting for
    the first to commit. Fields left out take their defaults: a field with a
    `db_default`, or nullable without a default, is left to the database (and
    sent no parameter), any other takes its Python default. Values are
    prepared as the ORM prepares them (time zones, JSON), except `JsonText`,
    which goes in as written. No model instance is built: this is for rows
    written on a hot path and read later.
    """
    unique = model._meta.get_field(unique_field)
    assert isinstance(unique, Field)
    sql, fields = _insert_sql(model, frozenset(values), _column(unique), connection.vendor)
    params = []
    for field in fields:
        value = values[field.name] if field.name in values else field.get_default()
        if not isinstance(value, JsonText):
            value = field.get_db_prep_save(value, connection)
        params.append(value)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1
