"""Authorization-matrix entries for a teacher's Plan & billing pages.

Teachers (alice, carol) see their own plan; everyone else is turned away as
if the pages didn't exist. Nobody here has a billing customer, so nothing
calls Stripe: a form sent empty is refused with its message.
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
    Outcome,
    signed_in,
)

BAD_REQUEST = Outcome(400)
TO_PLAN = Outcome(302, "billing:plan")


def _teachers(outcome: Outcome) -> dict[str, Outcome]:
    """Teachers get `outcome`; students and staff (not teachers) a 404; visitors log in."""
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: outcome, OWNER: outcome, STAFF: NOT_FOUND}


ENTRIES: dict[str, Entry] = {
    "billing:plan": Entry(get=_teachers(OK), post=signed_in(NOT_ALLOWED)),
    "billing:plan_subscribe": Entry(get=signed_in(NOT_ALLOWED), post=_teachers(BAD_REQUEST)),
    "billing:plan_change": Entry(get=signed_in(NOT_ALLOWED), post=_teachers(BAD_REQUEST)),
    "billing:plan_cancel_change": Entry(get=signed_in(NOT_ALLOWED), post=_teachers(BAD_REQUEST)),
    "billing:plan_portal": Entry(get=signed_in(NOT_ALLOWED), post=_teachers(BAD_REQUEST)),
    "billing:plan_return": Entry(get=_teachers(TO_PLAN), post=signed_in(NOT_ALLOWED)),
}
