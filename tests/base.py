"""Shared test kit: factories, named people and a query-count check for list pages.

The people every test can rely on:

- alice — a teacher, organisation "Alice's Studio"
- bob — a student (alice's student once courses exist)
- carol — another teacher
- dave — a student with no link to anyone (an outsider)
- staff — staff and superuser

Each has a verified email address and has accepted the current policy
documents, so the re-accept middleware lets them straight through. They all log
in with `PASSWORD`.
"""

import time
from collections.abc import Callable
from typing import Any

import factory
import time_machine
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from billing.tests.kit import restore_default_catalogue
from privacy import documents
from privacy import services as privacy_services

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A ready-to-use person: verified email, current policies accepted, known password."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Sequence(lambda n: f"Person{n}")
    last_name = "Example"
    is_student = True
    is_teacher = False
    country = "GB"

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        kwargs.setdefault("password", PASSWORD)
        return model_class.objects.create_user(**kwargs)

    @factory.post_generation
    def verified(obj: User, create: bool, extracted: bool | None, **kwargs: Any) -> None:  # noqa: N805
        """Give the person a verified primary address unless `verified=False`."""
        if create:
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True, verified=extracted is not False
            )

    @factory.post_generation
    def accepted_policies(obj: User, create: bool, extracted: bool | None, **kwargs: Any) -> None:  # noqa: N805
        """Record acceptance of every current required document unless told not to."""
        if create and extracted is not False:
            privacy_services.record_acceptances(user=obj, docs=documents.required_for(obj))


class TeacherFactory(UserFactory):
    is_teacher = True
    is_student = False
    organisation_name = factory.LazyAttribute(lambda u: f"{u.first_name}'s Studio")


class StudentFactory(UserFactory):
    is_teacher = False
    is_student = True


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True
    is_student = False


def make_people() -> dict[str, User]:
    """Create the named people; return them by name."""
    return {
        "alice": TeacherFactory.create(
            email="alice@example.com",
            first_name="Alice",
            last_name="Archer",
            organisation_name="Alice's Studio",
        ),
        "bob": StudentFactory.create(email="bob@example.com", first_name="Bob", last_name="Baker"),
        "carol": TeacherFactory.create(
            email="carol@example.com",
            first_name="Carol",
            last_name="Cole",
            organisation_name="Carol Coaching",
        ),
        "dave": StudentFactory.create(
            email="dave@example.com", first_name="Dave", last_name="Dunn"
        ),
        "staff": StaffFactory.create(
            email="staff@example.com", first_name="Sam", last_name="Staff"
        ),
    }


class LecternTestCase(TestCase):
    """A TestCase with alice, bob, carol, dave and staff created once per class."""

    alice: User
    bob: User
    carol: User
    dave: User
    staff: User

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # A transactional test that ran before (the browser's, the race tests) flushed the
        # rows migrations made, the plan catalogue's among them.
        restore_default_catalogue()
        for name, user in make_people().items():
            setattr(cls, name, user)

    def login(self, user: User, client: Client | None = None) -> Client:
        """Sign `user` in on `client` (the test's own by default) and return it."""
        client = client or self.client
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    def new_client(self, user: User | None = None, **defaults: Any) -> Client:
        """Return a fresh browser, signed in as `user` when given."""
        client = Client(**defaults)
        if user is not None:
            self.login(user, client)
        return client


def count_queries(run: Callable[[], Any]) -> tuple[int, list[str], Any]:
    """Run `run` and return how many queries it made, their SQL and its result."""
    with CaptureQueriesContext(connection) as ctx:
        result = run()
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries], result


def assert_constant_queries(
    self_or_client: TestCase | Client,
    url_or_callable: str | Callable[[], Any],
    make_rows: Callable[[int], object],
    counts: tuple[int, int] = (10, 1000),
    budget: int = 20,
) -> int:
    """Assert a page makes as many queries for many rows as for few, within `budget`.

    `make_rows(n)` adds n more rows. The page (a URL fetched with GET, which must
    answer 200, or any callable) is measured once with `counts[0]` rows and
    again after topping up to `counts[1]`. Return the query count.
    """
    client = self_or_client.client if isinstance(self_or_client, TestCase) else self_or_client
    if callable(url_or_callable):
        run = url_or_callable
    else:
        url = url_or_callable

        def run() -> Any:
            response = client.get(url)
            assert response.status_code == 200, (
                f"GET {url} answered {response.status_code}, expected 200"
            )
            return response

    few, many = counts
    make_rows(few)
    run()  # warm up: first-request work (session writes, caches) is not the page's cost
    few_count, few_sql, _ = count_queries(run)
    make_rows(many - few)
    many_count, many_sql, _ = count_queries(run)
    assert few_count == many_count, (
        f"{few_count} queries with {few} rows but {many_count} with {many} rows.\n"
        f"With {few}:\n" + "\n".join(few_sql) + f"\nWith {many}:\n" + "\n".join(many_sql)
    )
    assert many_count <= budget, (
        f"{many_count} queries, over the budget of {budget}:\n" + "\n".join(many_sql)
    )
    return many_count


def fresh_rate_window(window: int) -> time_machine.travel:
    """Return a clock that starts at the beginning of a rate-limit window and then ticks.

    Rate limits count in fixed windows (`core.ratelimit`); a test that makes N
    requests and expects the next one refused would otherwise fail whenever the
    requests straddle the end of a window.
    """
    now = time.time()
    return time_machine.travel(now - now % window + window, tick=True)
