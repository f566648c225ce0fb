"""Authorization-matrix entries for the outbox admin: staff may look, never add or delete."""

from django.urls import reverse

from tests.authz import Entry, Outcome, staff_only

FORBIDDEN = Outcome(403)

ENTRIES: dict[str, Entry] = {
    "admin:outbox_outboundemail_add": Entry(get=staff_only(FORBIDDEN)),
    # Permission is refused before the email is looked up, so any id will do.
    "admin:outbox_outboundemail_delete": Entry(
        get=staff_only(FORBIDDEN),
        url=lambda ctx: reverse("admin:outbox_outboundemail_delete", args=[0]),
    ),
}
