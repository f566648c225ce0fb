"""Authorization-matrix entries for Settings → Privacy, the subprocessors and cookies pages,
and the privacy admin's read-only models (staff may look, never add or delete).
"""

from django.urls import reverse

from tests.authz import NOT_ALLOWED, OK, Entry, Outcome, everyone, signed_in, staff_only

TO_PRIVACY = Outcome(302, "privacy:dashboard")
FORBIDDEN = Outcome(403)


def _admin_delete_url(model_name: str) -> Entry:
    # Permission is refused before the object is looked up, so any id will do.
    name = f"admin:privacy_{model_name}_delete"
    return Entry(get=staff_only(FORBIDDEN), url=lambda ctx: reverse(name, args=[0]))


ENTRIES: dict[str, Entry] = {
    "privacy:dashboard": Entry(get=signed_in()),
    # Consents belong to whoever is signed in: there is no one else's to reach.
    "privacy:consents": Entry(
        get=signed_in(NOT_ALLOWED),
        post=signed_in(TO_PRIVACY),
        data={"email_notifications": "on", "send_read_receipts": "on"},
    ),
    "subprocessors": Entry(get=everyone(OK)),
    "cookies": Entry(get=everyone(OK)),
    **{
        f"admin:privacy_{name}_add": Entry(get=staff_only(FORBIDDEN))
        for name in ("exportrequest", "deletionrequest", "policyacceptance")
    },
    **{
        f"admin:privacy_{name}_delete": _admin_delete_url(name)
        for name in ("exportrequest", "deletionrequest", "policyacceptance")
    },
}
