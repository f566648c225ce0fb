"""Authorization-matrix entries for deleting an account and the emailed cancel link.

The request page is for the signed-in person only; posting it without the
password changes nothing (400). The page after the request and the cancel link
are reached by someone who can no longer sign in, so they need no login; a
cancel link that is not one of ours is a 404 for everyone.
"""

from django.urls import reverse

from tests.authz import NOT_ALLOWED, NOT_FOUND, OK, Entry, Outcome, everyone, signed_in

ENTRIES = {
    "privacy:delete_account": Entry(get=signed_in(OK), post=signed_in(Outcome(400))),
    "privacy:deletion_scheduled": Entry(get=everyone(OK), post=everyone(NOT_ALLOWED)),
    "privacy:deletion_cancel": Entry(
        get=everyone(NOT_FOUND),
        post=everyone(NOT_FOUND),
        url=lambda ctx: reverse("privacy:deletion_cancel", args=["not-a-real-token"]),
    ),
}
