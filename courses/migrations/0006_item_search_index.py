"""Full-text search over course items on PostgreSQL: a stored tsvector and its GIN index.

`search_document` is a generated column PostgreSQL keeps up to date on every
write: the title weighted A and the body weighted B, with the "simple"
configuration (lowercased words, no stemming or stop words, since courses are
written in any language). `ai.retrieval` filters and ranks on it. It is stored
rather than an expression index because ranking needs each match's vector: with
an expression index PostgreSQL recomputed `to_tsvector` over every matching body
for each question (about 0.75 s for a course of 2,000 items and 5 MB), and a
prepared statement's generic plan cannot match an expression written with
parameters, so it fell back to a sequential scan. `fastupdate` is off: items are
written rarely and by hand, and with it on new items wait in the index's pending
list, which every search scans in full until a vacuum merges it (15 ms instead of
1.3 ms per search in the benchmark, and the planner then prefers a sequential scan).

The column is PostgreSQL's alone and not a model field: SQLite has neither
tsvector nor GIN, so there this migration does nothing and retrieval falls back
to plain word matching.
"""

from django.db import migrations

ADD = """
ALTER TABLE courses_courseitem ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(body, '')), 'B')
    ) STORED;
CREATE INDEX courseitem_search ON courses_courseitem USING gin (search_document)
    WITH (fastupdate = off);
"""
REMOVE = """
DROP INDEX IF EXISTS courseitem_search;
ALTER TABLE courses_courseitem DROP COLUMN IF EXISTS search_document;
"""


def add_search_document(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD)


def remove_search_document(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0005_live_sessions"),
    ]

    operations = [
        migrations.RunPython(add_search_document, remove_search_document, elidable=False),
    ]
