"""Authorization-matrix entries for messaging.

alice teaches "authz-messaging-course" with bob enrolled; its channel holds
three of bob's messages (to edit, delete and react to), and alice and bob
have a direct conversation. carol (another teacher) and staff share no course
with them: every conversation URL is a 404 for them, as if it didn't exist.
Members who lack a right (bob muting, alice editing bob's words) get a 403
that says why.
"""

from collections.abc import Callable

from django.urls import reverse

from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from messaging import services
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
    Context,
    Entry,
    Expected,
    Outcome,
    signed_in,
)

SLUG = "authz-messaging-course"
FORBIDDEN = Outcome(403)


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG)
    Enrollment.objects.create(course=course, student=bob)
    channel = services.get_or_create_channel(course=course)
    for name in ("edit", "delete", "react"):
        ctx.objects[f"messaging_{name}"] = services.post_message(
            conversation=channel, author=bob, body=f"A message to {name}", notify=False
        )
    direct = services.get_or_create_direct(user=alice, other=bob)
    services.post_message(conversation=direct, author=bob, body="Hello Alice", notify=False)
    ctx.objects["messaging_channel"] = channel
    ctx.objects["messaging_direct"] = direct


def _members(
    student: Expected = OK, owner: Expected = OK, other: Expected = NOT_FOUND
) -> dict[str, Expected]:
    """alice and bob belong; carol and staff get a 404; visitors go to log in."""
    return {ANON: TO_LOGIN, STUDENT: student, OTHER: other, OWNER: owner, STAFF: NOT_FOUND}


def _post_only() -> dict[str, Expected]:
    return {ANON: TO_LOGIN, **dict.fromkeys((STUDENT, OTHER, OWNER, STAFF), NOT_ALLOWED)}


def _to_channel(ctx: Context) -> Outcome:
    return Outcome(
        302, reverse("messaging:conversation", args=[ctx.objects["messaging_channel"].pk])
    )


def _to_direct(ctx: Context) -> Outcome:
    return Outcome(
        302, reverse("messaging:conversation", args=[ctx.objects["messaging_direct"].pk])
    )


def _channel_url(name: str) -> Callable[[Context], str]:
    return lambda ctx: reverse(f"messaging:{name}", args=[ctx.objects["messaging_channel"].pk])


def _message_url(name: str) -> Callable[[Context], str]:
    return lambda ctx: reverse(f"messaging:{name}", args=[ctx.objects[f"messaging_{name}"].pk])


ENTRIES: dict[str, Entry] = {
    "messaging:inbox": Entry(get=signed_in()),
    "messaging:unread": Entry(get=signed_in()),
    "messaging:new": Entry(get=signed_in()),
    # Messaging bob: alice shares a course with him; nobody else does (bob can't message himself).
    "messaging:direct": Entry(
        get=_members(student=NOT_FOUND, owner=_to_direct),
        url=lambda ctx: reverse("messaging:direct", args=[ctx.people["bob"].pk]),
    ),
    "messaging:channel": Entry(
        get=_members(student=_to_channel, owner=_to_channel),
        url=lambda ctx: reverse("messaging:channel", args=[SLUG]),
    ),
    # Only the course's teacher starts groups; a POST without students is refused with 400.
    "messaging:new_group": Entry(
        get=_members(student=NOT_FOUND),
        post=_members(student=NOT_FOUND, owner=Outcome(400)),
        url=lambda ctx: reverse("messaging:new_group", args=[SLUG]),
    ),
    "messaging:conversation": Entry(get=_members(), url=_channel_url("conversation")),
    "messaging:poll": Entry(get=_members(), url=_channel_url("poll")),
    "messaging:people": Entry(get=_members(), url=_channel_url("people")),
    "messaging:post": Entry(
        get=_post_only(),
        post=_members(student=_to_channel, owner=_to_channel),
        url=_channel_url("post"),
        data={"body": "Hello from the matrix"},
    ),
    # Only the channel's teacher mutes; bob, a member, is told he can't.
    "messaging:mute": Entry(
        get=_post_only(),
        post=_members(
            student=FORBIDDEN,
            owner=lambda ctx: Outcome(
                302, reverse("messaging:people", args=[ctx.objects["messaging_channel"].pk])
            ),
        ),
        url=lambda ctx: reverse(
            "messaging:mute",
            args=[ctx.objects["messaging_channel"].pk, ctx.people["bob"].pk],
        ),
        data={"muted": "1"},
    ),
    # bob wrote it; alice may read it but not edit it.
    "messaging:edit": Entry(
        get=_members(owner=FORBIDDEN),
        post=_members(student=_to_channel, owner=FORBIDDEN),
        url=_message_url("edit"),
        data={"body": "Edited in the matrix"},
    ),
    # bob deletes his own message; alice, the channel's teacher, may delete any.
    "messaging:delete": Entry(
        get=_post_only(),
        post=_members(student=_to_channel, owner=_to_channel),
        url=_message_url("delete"),
    ),
    "messaging:react": Entry(
        get=_post_only(),
        post=_members(student=_to_channel, owner=_to_channel),
        url=_message_url("react"),
        data={"emoji": "👍"},
    ),
}
