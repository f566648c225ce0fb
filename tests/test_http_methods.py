"""Pages answer only the methods they are written for: anything else is 405.

Walks every URL pattern of the authorization matrix and, as each person who may
see the page, sends methods the page does not take. A page that answered a
made-up method (or PUT / DELETE) like a GET would hide mistakes in clients and
in caches, and would run its view for requests nobody meant to make.
"""

import pytest
from django.test import Client

from accounts.models import User
from tests.authz import OK, PERSONS
from tests.test_authorization_matrix import PATTERNS, Pattern, _make_context, _plain_url, _resolve
from tests.test_authorization_matrix import entry_for as matrix_entry

NOT_TAKEN = ("FROBNICATE", "PUT", "DELETE", "PATCH")
# allauth's form views treat PUT as POST and Django's admin answers any method:
# theirs to decide. Every view of ours says which methods it takes.
OUR_APPS = (
    "core.",
    "accounts.",
    "privacy.",
    "files.",
    "courses.",
    "storefront.",
    "messaging.",
    "notifications.",
    "billing.",
    "live.",
    "ai.",
    "support.",
    "onboarding.",
    "analytics.",
    "crm.",
)


OURS = [pattern for pattern in PATTERNS if pattern.view.startswith(OUR_APPS)]


def test_it_finds_our_views() -> None:
    assert len(OURS) > 50
    assert {"storefront:course", "dashboard", "files:download", "billing:checkout"} <= {
        p.key for p in OURS
    }


@pytest.mark.parametrize("pattern", OURS, ids=lambda p: p.key)
def test_it_refuses_methods_a_page_does_not_take(pattern: Pattern, people: dict[str, User]) -> None:
    entry = matrix_entry(pattern)
    assert entry is not None, f"{pattern} has no authorization-matrix entry"
    if entry.get is None:
        pytest.skip("not a page read with GET")
    ctx = _make_context(people)
    url = entry.url(ctx) if entry.url else _plain_url(pattern)
    # Only people the page really answers: the others are turned away before the view.
    readers = [person for person in PERSONS if _resolve(entry.get[person], ctx) == OK]
    if not readers:
        pytest.skip("nobody reads this page")
    person = readers[-1]
    client = Client()
    username = PERSONS[person]
    if username:
        client.force_login(people[username], backend="django.contrib.auth.backends.ModelBackend")

    answers = {method: client.generic(method, url).status_code for method in NOT_TAKEN}

    wrong = {method: status for method, status in answers.items() if status != 405}
    assert not wrong, f"{url} as {person}: {wrong} (expected 405)"
