"""The query-count helper, tried on the sessions page."""

import uuid
from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.base import LecternTestCase, assert_constant_queries


def add_sessions(user: User, count: int, *, auth_hash: str | None = None) -> list[UserSession]:
    """Give `user` `count` live sessions, each a real Django session that signs them in."""
    encoder = SessionStore()
    data = encoder.encode(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: auth_hash or user.get_session_auth_hash(),
        }
    )
    expires = timezone.now() + timedelta(days=7)
    keys = [uuid.uuid4().hex for _ in range(count)]
    Session.objects.bulk_create(
        [Session(session_key=k, session_data=data, expire_date=expires) for k in keys]
    )
    return UserSession.objects.bulk_create(
        [
            UserSession(
                user=user,
                session_key=k,
                ip=f"203.0.113.{i % 250 + 1}",
                user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            )
            for i, k in enumerate(keys)
        ]
    )


class QueryCountHelperTests(LecternTestCase):
    def test_it_passes_for_the_sessions_page_with_10_and_1000_sessions(self) -> None:
        self.login(self.alice)
        count = assert_constant_queries(
            self,
            reverse("accounts:sessions"),
            lambda n: add_sessions(self.alice, n),
            budget=15,
        )
        assert count > 0
        # Every session was shown, none purged as dead.
        assert UserSession.objects.filter(user=self.alice).count() >= 1000

    def test_it_fails_when_each_row_costs_a_query(self) -> None:
        def one_query_per_session() -> None:
            for session in UserSession.objects.filter(user=self.alice):
                _ = session.user.email  # a query per row

        with pytest.raises(AssertionError, match="queries with 2 rows but"):
            assert_constant_queries(
                self, one_query_per_session, lambda n: add_sessions(self.alice, n), counts=(2, 5)
            )

    def test_it_fails_when_the_page_is_over_budget(self) -> None:
        self.login(self.alice)
        with pytest.raises(AssertionError, match="over the budget of 1"):
            assert_constant_queries(
                self.client,
                reverse("accounts:sessions"),
                lambda n: add_sessions(self.alice, n),
                counts=(1, 3),
                budget=1,
            )

    def test_it_fails_when_the_page_does_not_answer_200(self) -> None:
        with pytest.raises(AssertionError, match="expected 200"):
            assert_constant_queries(
                self, reverse("accounts:sessions"), lambda n: None, counts=(1, 2)
            )


class SessionsPagePurgeTests(LecternTestCase):
    def test_it_drops_sessions_that_no_longer_sign_the_person_in(self) -> None:
        self.login(self.alice)
        (live,) = add_sessions(self.alice, 1)
        (gone,) = add_sessions(self.alice, 1)
        Session.objects.filter(session_key=gone.session_key).delete()
        (expired,) = add_sessions(self.alice, 1)
        Session.objects.filter(session_key=expired.session_key).update(
            expire_date=timezone.now() - timedelta(minutes=1)
        )
        (old_password,) = add_sessions(self.alice, 1, auth_hash="stale-hash-from-old-password")
        (someone_else,) = add_sessions(self.bob, 1)
        UserSession.objects.filter(pk=someone_else.pk).update(user=self.alice)

        response = self.client.get(reverse("accounts:sessions"))

        assert response.status_code == 200
        shown = {s.pk for s in response.context["sessions"]}
        assert live.pk in shown
        assert shown.isdisjoint({gone.pk, expired.pk, old_password.pk, someone_else.pk})
        assert not UserSession.objects.filter(
            pk__in=[gone.pk, expired.pk, old_password.pk, someone_else.pk]
        ).exists()
