"""No input makes Lectern answer 5xx, and a refused request leaves stored rows alone.

For every URL pattern of the authorization matrix, Hypothesis sends bad
requests as each kind of person (visitor, student, other teacher, owner,
staff): the page's own forms (read from the page itself) with fields
missing, doubled, extra or replaced by 100 KB strings, NUL bytes, invalid
UTF-8, huge, negative and non-finite numbers, dates in year 1 and 9999, time
zones that don't exist; query strings likewise; URLs whose captured ids are
20 digits long; wrong methods; JSON, broken multipart and odd bodies.

Two properties hold for every case: the status is below 500, and a request
answered with 4xx (or a form re-rendered with errors) changed no row that was
stored before it. No 5xx is excused: live and AI pages talk to local
stand-ins for LiveKit, the AI endpoint and the recordings' bucket
(tests.fuzz.stand_ins), so they read their input instead of answering "not
set up". Each URL's failures are listed together, with the person and the
exact request.
"""

import re
from typing import Any

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.authz import ANON
from tests.fuzz.cases import persons_for, requests_for
from tests.fuzz.conftest import SCALE
from tests.fuzz.stand_ins import REACHED
from tests.fuzz.world import Target
from tests.test_authorization_matrix import PATTERNS, _model_admin_page
from tests.test_http_methods import OUR_APPS

# Pages Django's admin generates per model share one code path: fewer cases each.
ADMIN_MODEL_PAGE_CASES = 5
OTHER_PAGE_CASES = 20
MINIMUM_CASES = 5_000
TOO_BIG_AN_ID = "99999999999999999999"

PLANNED = {
    pattern.key: SCALE
    * (ADMIN_MODEL_PAGE_CASES if _model_admin_page(pattern) else OTHER_PAGE_CASES)
    for pattern in PATTERNS
}
# Cases sent per URL pattern in this process, for the total checked at the end.
SENT: dict[str, int] = {}


def fuzz(world: Any, target: Target) -> tuple[int, list[str]]:
    """Send the target's planned cases; return how many were sent and what went wrong."""
    failures: list[str] = []
    sent = 0

    @settings(settings.get_profile("lectern-fuzz"), max_examples=PLANNED[target.pattern.key])
    @given(data=st.data())
    def case(data: st.DataObject) -> None:
        nonlocal sent
        person = data.draw(persons_for(target), label="person")
        request = data.draw(requests_for(target), label="request")
        sent += 1
        problem = world.send(target, person, request)
        if problem:
            failures.append(problem)

    case()
    return sent, failures


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(PLANNED))
def test_it_survives_bad_input(key: str, world: Any, record_property: Any) -> None:
    if key not in world.targets:
        pytest.skip("no authorization-matrix entry to build its URL from (the matrix test fails)")
    sent, failures = fuzz(world, world.targets[key])
    SENT[key] = sent
    record_property("fuzz_cases", sent)
    assert not failures, f"{len(failures)} of {sent} cases failed:\n  " + "\n  ".join(failures)


# Our own views that take an integer id in the address (Django's admin has its own rules).
ID_ROUTES = [
    (pattern.key, name)
    for pattern in PATTERNS
    if pattern.view.startswith(OUR_APPS)
    for name in re.findall(r"<(?:int|id):(\w+)>", pattern.route)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "kwarg"), ID_ROUTES, ids=[f"{k}-{n}" for k, n in ID_ROUTES])
def test_it_answers_404_for_an_id_too_big_for_the_database(
    key: str, kwarg: str, world: Any
) -> None:
    """An id past the largest bigint (20 digits) is an object that doesn't exist."""
    target = world.targets[key]
    url = reverse(key, kwargs={**target.kwargs, kwarg: TOO_BIG_AN_ID})
    answers = {}
    # Visitors are sent to log in before any id is looked at.
    for person in [person for person in target.insiders if person != ANON]:
        for method in ("GET", "POST"):
            response = world.client(person).generic(method, url)
            answers[(person, method)] = response.status_code
    # 403: the person may not do this at all, whatever the id (a student muting someone).
    wrong = {asked: status for asked, status in answers.items() if status not in (403, 404, 405)}
    assert not wrong, f"{url}: {wrong} (expected 404, or 403/405 before any lookup)"


def test_it_plans_at_least_5000_cases() -> None:
    assert sum(PLANNED.values()) >= MINIMUM_CASES


def test_it_sent_every_planned_case() -> None:
    """Runs last in this module: every URL got its cases, at least 5,000 in all."""
    if set(SENT) != set(PLANNED):
        pytest.skip("only part of the fuzz suite ran in this process")
    short = {key: (SENT[key], PLANNED[key]) for key in PLANNED if SENT[key] < PLANNED[key] * 0.9}
    assert not short, f"URLs that got fewer cases than planned (sent, planned): {short}"
    assert sum(SENT.values()) >= MINIMUM_CASES


def test_the_stand_ins_were_called() -> None:
    """Runs after the fuzz cases: live and AI pages reached their services, not "not set up"."""
    if set(SENT) != set(PLANNED):
        pytest.skip("only part of the fuzz suite ran in this process")
    assert any(name.startswith("livekit.") for name in REACHED), REACHED
    assert REACHED["ai.chat"], REACHED
