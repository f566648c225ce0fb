"""Pytest fixtures for the named people (alice, bob, carol, dave, staff).

Apps' own test folders reuse these with `from tests.conftest import *`.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

# Conftests load before Django is set up: models are imported inside the fixtures.
if TYPE_CHECKING:
    from django.test import Client

    from accounts.models import User

PASSWORD = "correct horse battery staple"

__all__ = [
    "PASSWORD",
    "alice",
    "bob",
    "carol",
    "client_for",
    "dave",
    "people",
    "staff",
]


@pytest.fixture
def people(db: None) -> dict[str, "User"]:
    from tests.base import make_people

    return make_people()


@pytest.fixture
def alice(people: dict[str, "User"]) -> "User":
    return people["alice"]


@pytest.fixture
def bob(people: dict[str, "User"]) -> "User":
    return people["bob"]


@pytest.fixture
def carol(people: dict[str, "User"]) -> "User":
    return people["carol"]


@pytest.fixture
def dave(people: dict[str, "User"]) -> "User":
    return people["dave"]


@pytest.fixture
def staff(people: dict[str, "User"]) -> "User":
    return people["staff"]


@pytest.fixture
def client_for(db: None) -> Callable[..., "Client"]:
    """Return a factory of browsers: `client_for(alice)` is signed in as alice."""
    from django.test import Client

    def make(user: "User | None" = None, **defaults: object) -> Client:
        client = Client(**defaults)  # type: ignore[arg-type]
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make
