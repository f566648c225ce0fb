"""Authorization-matrix entries for "Contact us" and Help.

Contact us is for visitors; signed-in people are sent to the Help form, which
answers at their account's address. An empty submission is a 400 with the
form's errors. The thanks page is for everyone. A stored request (with a
reply) gives the admin's per-object pages something to show.
"""

from support import services
from support.models import SupportRequest
from tests.authz import (
    ANON,
    NOT_ALLOWED,
    OK,
    OTHER,
    OWNER,
    STAFF,
    STUDENT,
    Context,
    Entry,
    Outcome,
    everyone,
    signed_in,
)

BAD_FORM = Outcome(400)
TO_HELP = Outcome(302, "support:help")


def build(ctx: Context) -> None:
    bob = ctx.people["bob"]
    request = services.submit_request(
        user=bob,
        name="Bob",
        email=bob.email,
        category=SupportRequest.Category.COURSES,
        message="I can't find my course.",
    )
    services.reply(support_request=request, staff=ctx.people["staff"], text="It is on your page.")


ENTRIES: dict[str, Entry] = {
    "support:contact": Entry(
        get={ANON: OK, STUDENT: TO_HELP, OTHER: TO_HELP, OWNER: TO_HELP, STAFF: TO_HELP},
        post={ANON: BAD_FORM, STUDENT: TO_HELP, OTHER: TO_HELP, OWNER: TO_HELP, STAFF: TO_HELP},
    ),
    "support:sent": Entry(get=everyone(OK), post=everyone(NOT_ALLOWED)),
    "support:help": Entry(get=signed_in(), post=signed_in(BAD_FORM)),
}
