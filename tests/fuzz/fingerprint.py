"""Tell whether a request changed rows that were already stored, cheaply.

Every fuzz case starts from the same database (each case runs in a savepoint
that is rolled back), so the rows of every table are read once, up front,
into a multiset per table. After a rejected request only the tables its SQL
wrote to (INSERT / UPDATE / DELETE seen by the query log) are read again: a
stored row that is no longer there, byte for byte, was changed or deleted.
New rows are not "stored data changed" and are reported separately only
where a test asks.
"""

import re
from collections import Counter
from collections.abc import Iterable

from django.db import connection

WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"([^"]+)"', re.IGNORECASE)

type Rows = Counter[str]


def written_tables(queries: Iterable[dict[str, str]]) -> set[str]:
    """Return the tables the captured SQL statements wrote to."""
    return {match[1] for query in queries if (match := WRITE.match(query["sql"]))}


def read_rows(table: str) -> Rows:
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {quoted}")
        return Counter(repr(row) for row in cursor.fetchall())


def snapshot() -> dict[str, Rows]:
    """Read every table's rows: the state each case starts from."""
    return {table: read_rows(table) for table in connection.introspection.table_names()}


def changed_tables(before: dict[str, Rows], tables: Iterable[str]) -> dict[str, int]:
    """Return, for each of `tables` whose stored rows changed, how many rows are gone or altered."""
    changed = {}
    for table in sorted(tables):
        missing = before.get(table, Counter()) - read_rows(table)
        if missing:
            changed[table] = missing.total()
    return changed
