"""Re-accepting changed policies: the middleware's redirect and the accept page."""

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from accounts.models import User
from privacy import documents
from privacy.models import PolicyAcceptance
from privacy.tests.conftest import EditPolicy
from tests.base import StudentFactory

type ClientFor = Callable[..., Client]

ACCEPT = "/policies/accept/"


def _redirect_target(response: object) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(response["Location"])  # type: ignore[index]
    return parts.path, parse_qs(parts.query)


@pytest.fixture
def terms_changed(edit_policy: EditPolicy) -> documents.PolicyDocument:
    return edit_policy("terms", "A new clause about refunds.")


def test_it_sends_someone_who_accepted_old_versions_to_reaccept(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument
) -> None:
    response = client_for(bob).get("/dashboard/")
    assert response.status_code == 302
    assert _redirect_target(response) == (ACCEPT, {"next": ["/dashboard/"]})


def test_it_sends_someone_who_never_accepted_to_accept(client_for: ClientFor, db: None) -> None:
    newcomer = StudentFactory(accepted_policies=False)
    response = client_for(newcomer).get("/dashboard/?tab=courses")
    assert _redirect_target(response) == (ACCEPT, {"next": ["/dashboard/?tab=courses"]})


def test_it_lets_people_through_when_nothing_changed(client_for: ClientFor, bob: User) -> None:
    assert client_for(bob).get("/dashboard/").status_code == 200


def test_it_notices_a_change_during_a_session(
    client_for: ClientFor, bob: User, edit_policy: EditPolicy
) -> None:
    client = client_for(bob)
    assert client.get("/dashboard/").status_code == 200
    edit_policy("community-guidelines", "Be kind to the moderators.")
    response = client.get("/dashboard/")
    assert _redirect_target(response)[0] == ACCEPT


def test_it_lists_only_the_changed_documents(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument
) -> None:
    response = client_for(bob).get(f"{ACCEPT}?next=/dashboard/")
    assert response.status_code == 200
    assert [doc.slug for doc in response.context["pending"]] == ["terms"]
    html = response.content.decode()
    assert 'name="accept_terms"' in html
    assert "Terms of Service" in html
    for other in ("privacy", "community-guidelines", "instructor-agreement"):
        assert f'name="accept_{other}"' not in html


def test_it_refuses_a_post_without_the_checkboxes(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument
) -> None:
    client = client_for(bob)
    stored = PolicyAcceptance.objects.count()
    response = client.post(ACCEPT, {"next": "/dashboard/"})
    assert response.status_code == 400
    assert "Please accept the Terms of Service to continue." in response.content.decode()
    assert PolicyAcceptance.objects.count() == stored
    assert _redirect_target(client.get("/dashboard/"))[0] == ACCEPT


def test_it_refuses_an_empty_post_with_a_message(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument
) -> None:
    response = client_for(bob).post(ACCEPT)
    assert response.status_code == 400
    assert "Please accept the Terms of Service to continue." in response.content.decode()


def test_it_records_the_new_versions_and_returns_to_next(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument
) -> None:
    client = client_for(bob)
    response = client.post(ACCEPT, {"accept_terms": "on", "next": "/dashboard/"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    acceptance = PolicyAcceptance.objects.get(
        user=bob, document="terms", sha256=terms_changed.sha256
    )
    assert len(acceptance.sha256) == 64
    assert client.get("/dashboard/").status_code == 200


def test_it_asks_teachers_to_accept_the_instructor_agreement(
    client_for: ClientFor, alice: User, bob: User, edit_policy: EditPolicy
) -> None:
    agreement = edit_policy("instructor-agreement", "A new fee table.")
    teacher = client_for(alice)
    assert _redirect_target(teacher.get("/dashboard/"))[0] == ACCEPT
    response = teacher.get(ACCEPT)
    assert [doc.slug for doc in response.context["pending"]] == ["instructor-agreement"]
    teacher.post(ACCEPT, {"accept_instructor-agreement": "on"})
    assert PolicyAcceptance.objects.filter(
        user=alice, document="instructor-agreement", sha256=agreement.sha256
    ).exists()
    assert teacher.get("/dashboard/").status_code == 200
    # Students never have to accept it.
    assert client_for(bob).get("/dashboard/").status_code == 200
    assert not PolicyAcceptance.objects.filter(user=bob, document="instructor-agreement").exists()


@pytest.mark.parametrize(
    "url", ["/terms/", "/privacy/", "/instructor-agreement/", "/community-guidelines/", ACCEPT]
)
def test_it_keeps_policy_pages_reachable_while_acceptance_is_pending(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument, url: str
) -> None:
    assert client_for(bob).get(url).status_code == 200


def test_it_lets_people_log_out_while_acceptance_is_pending(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument
) -> None:
    client = client_for(bob)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not response["Location"].startswith(ACCEPT)
    assert AUTH_SESSION_KEY not in client.session


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_it_ignores_an_unsafe_next(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument, unsafe: str
) -> None:
    client = client_for(bob)
    page = client.get(ACCEPT, {"next": unsafe})
    assert page.context["next"] == ""
    # The form must not carry it on to the POST that follows.
    assert f'value="{escape(unsafe)}"' not in page.content.decode()
    response = client.post(ACCEPT, {"accept_terms": "on", "next": unsafe})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_it_returns_to_next_when_nothing_is_pending(client_for: ClientFor, bob: User) -> None:
    response = client_for(bob).get(ACCEPT, {"next": "/settings/profile/"})
    assert response.status_code == 302
    assert response["Location"] == "/settings/profile/"


def test_it_checks_acceptances_only_once_per_session(
    client_for: ClientFor, bob: User, terms_changed: documents.PolicyDocument
) -> None:
    client = client_for(bob)
    client.post(ACCEPT, {"accept_terms": "on", "next": "/dashboard/"})
    with CaptureQueriesContext(connection) as first:
        assert client.get("/dashboard/").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get("/dashboard/").status_code == 200

    def asks_acceptances(ctx: CaptureQueriesContext) -> bool:
        return any("privacy_policyacceptance" in q["sql"] for q in ctx.captured_queries)

    assert asks_acceptances(first)
    assert not asks_acceptances(second)
    assert len(second.captured_queries) < len(first.captured_queries)


def test_it_sends_anonymous_visitors_to_log_in_from_the_accept_page(
    client: Client, db: None
) -> None:
    response = client.get(ACCEPT)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
