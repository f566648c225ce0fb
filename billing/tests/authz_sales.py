"""Authorization-matrix entries for a teacher's Sales page and its CSV.

Every teacher has a Sales page about their own sales only, so alice (who has
sold a course in billing's entries) and carol (who hasn't) both get one.
"""

from tests.authz import (
    ANON,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    OTHER,
    OWNER,
    STAFF,
    STUDENT,
    TO_LOGIN,
    Entry,
    signed_in,
)

TEACHERS = {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: OK, OWNER: OK, STAFF: NOT_FOUND}

ENTRIES: dict[str, Entry] = {
    "billing:sales": Entry(get=TEACHERS, post=signed_in(NOT_ALLOWED)),
    "billing:sales_export": Entry(get=TEACHERS, post=signed_in(NOT_ALLOWED)),
}
