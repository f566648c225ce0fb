"""Authorization-matrix entries for the welcome survey: anyone signed in answers their own.

The survey's admin page (totals only) is the changelist the matrix covers for
every registered model: staff only.
"""

from tests.authz import TO_DASHBOARD, TO_LOGIN, Entry, signed_in

ENTRIES: dict[str, Entry] = {
    "onboarding:welcome": Entry(
        get=signed_in(),
        post=signed_in(TO_DASHBOARD, anon=TO_LOGIN),
        data={"skip": "1"},
    ),
}
