"""Authorization-matrix entries for the AI pages every AI action shares.

alice asked for an answer (a generation, as `ai.generation.start` leaves it
in the cache); only she may poll it, everyone else is told it doesn't exist.
"""

import time
from dataclasses import asdict

from django.core.cache import cache
from django.urls import reverse

from ai import generation
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
    everyone,
)

TOKEN = "matrix-answer-token"


def build(ctx: Context) -> None:
    alice = ctx.people["alice"]
    state = generation.State(user_id=alice.pk, status="done", started_at=time.time(), text="Hi")
    cache.set(generation._key(TOKEN), asdict(state), generation.KEEP_SECONDS)


ENTRIES: dict[str, Entry] = {
    "ai:answer": Entry(
        get={ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: OK, STAFF: NOT_FOUND},
        post={**everyone(NOT_ALLOWED), ANON: TO_LOGIN},
        url=lambda ctx: reverse("ai:answer", args=[TOKEN]),
    ),
}
