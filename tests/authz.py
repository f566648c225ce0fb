"""The vocabulary of the authorization matrix, shared by every area's entries.

`tests/test_authorization_matrix.py` walks every URL pattern and requests it as
each kind of person. Entries for the account pages live there; each app adds
its own in `<app>/tests/authz*.py`, exposing `ENTRIES: dict[str, Entry]` and,
when its URLs need objects, `build(ctx: Context) -> None` filling `ctx.objects`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from allauth.usersessions.models import UserSession

from accounts.models import User

ANON, STUDENT, OTHER, OWNER, STAFF = "anonymous", "student", "other teacher", "owner", "staff"
PERSONS = {ANON: None, STUDENT: "bob", OTHER: "carol", OWNER: "alice", STAFF: "staff"}
SIGNED_IN = (STUDENT, OTHER, OWNER, STAFF)


@dataclass(frozen=True)
class Outcome:
    """An expected answer: a status and, for redirects, the URL name or path it points to."""

    status: int
    to: str | None = None

    def __str__(self) -> str:
        return f"{self.status} → {self.to}" if self.to else str(self.status)


OK = Outcome(200)
NOT_FOUND = Outcome(404)
NOT_ALLOWED = Outcome(405)
TO_LOGIN = Outcome(302, "account_login")
TO_DASHBOARD = Outcome(302, "dashboard")
TO_ADMIN_LOGIN = Outcome(302, "admin:login")


Expected = Outcome | Callable[["Context"], Outcome]


def everyone(outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(PERSONS, outcome)


def signed_in(outcome: Outcome = OK, anon: Outcome = TO_LOGIN) -> dict[str, Outcome]:
    """Anonymous visitors go to log in; everyone signed in gets `outcome`."""
    return {ANON: anon, **dict.fromkeys(SIGNED_IN, outcome)}


def guests_only(outcome: Outcome = OK) -> dict[str, Outcome]:
    """Pages for people not signed in: the signed-in go to their dashboard."""
    return {ANON: outcome, **dict.fromkeys(SIGNED_IN, TO_DASHBOARD)}


def staff_only(outcome: Expected = OK, anon: Outcome = TO_ADMIN_LOGIN) -> dict[str, Expected]:
    """Admin pages: everyone but staff is sent to the admin's log-in page."""
    return {**dict.fromkeys(PERSONS, anon), STAFF: outcome}


@dataclass
class Context:
    """What entries may need to build their URLs: the people and objects they own."""

    people: dict[str, User]
    alice_other_session: UserSession
    # Objects other areas' entries need (courses, submissions...), by name.
    objects: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """Expected outcomes by method; `url` builds the URL when the pattern takes arguments."""

    get: Mapping[str, Expected] | None = None
    post: Mapping[str, Expected] | None = None
    url: Callable[[Context], str] | None = None
    data: dict[str, str] = field(default_factory=dict)
