"""The user admin: staff find people by search and filters; nobody else gets in."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.base import StudentFactory, assert_constant_queries

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


def listed(response) -> set[str]:
    return {user.email for user in response.context["cl"].result_list}


def test_it_lists_every_user_for_staff(client_for, people: dict[str, User]) -> None:
    response = client_for(people["staff"]).get(CHANGELIST)

    assert response.status_code == 200
    assert listed(response) == {u.email for u in people.values()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("alice", {"alice@example.com"}),
        ("Baker", {"bob@example.com"}),
        ("Alice's Studio", {"alice@example.com"}),
        ("CAROL@EXAMPLE", {"carol@example.com"}),
        ("nobody-matches-this", set()),
    ],
)
def test_it_searches_by_email_name_and_organisation(
    client_for, people: dict[str, User], query: str, expected: set[str]
) -> None:
    response = client_for(people["staff"]).get(CHANGELIST, {"q": query})

    assert response.status_code == 200
    assert listed(response) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"is_teacher__exact": "1"}, {"alice@example.com", "carol@example.com"}),
        ({"is_student__exact": "1"}, {"bob@example.com", "dave@example.com", "fr@example.com"}),
        ({"is_staff__exact": "1"}, {"staff@example.com"}),
        ({"is_active__exact": "0"}, {"fr@example.com"}),
        ({"country": "FR"}, {"fr@example.com"}),
        ({"is_student__exact": "1", "q": "dave"}, {"dave@example.com"}),
    ],
)
def test_it_filters_by_role_staff_activity_and_country(
    client_for, people: dict[str, User], filters: dict[str, str], expected: set[str]
) -> None:
    StudentFactory(email="fr@example.com", country="FR", is_active=False)

    response = client_for(people["staff"]).get(CHANGELIST, filters)

    assert response.status_code == 200
    assert listed(response) == expected


def test_it_shows_a_users_page_to_staff(client_for, people: dict[str, User]) -> None:
    response = client_for(people["staff"]).get(
        reverse("admin:accounts_user_change", args=[people["alice"].pk])
    )

    assert response.status_code == 200
    assert "Alice&#x27;s Studio" in response.content.decode()


def test_it_lists_users_in_a_constant_number_of_queries(
    client_for, people: dict[str, User]
) -> None:
    assert_constant_queries(
        client_for(people["staff"]),
        CHANGELIST,
        lambda n: StudentFactory.create_batch(n, accepted_policies=False, verified=False),
        counts=(10, 150),
        budget=15,
    )


@pytest.mark.parametrize("name", ["bob", "alice", "carol", "dave"])
def test_it_refuses_people_who_are_not_staff(
    client_for, people: dict[str, User], name: str
) -> None:
    response = client_for(people[name]).get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_sends_anonymous_visitors_to_the_admin_login(client: Client) -> None:
    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={CHANGELIST}"


def test_it_refuses_staff_without_permission_to_view_users(client_for) -> None:
    clerk = StudentFactory(email="clerk@example.com", is_staff=True)

    response = client_for(clerk).get(CHANGELIST)

    assert response.status_code == 403
