"""PostgreSQL restarted under a running gunicorn.

A request caught in the middle of its transaction gets the 503 page with a
Retry-After, and none of the rows it had written stays; once the server is
back, the same gunicorn workers answer every request again (their pooled
connections, which the restart ended, are replaced before anyone gets one).
"""

import threading
import time

import psycopg
import pytest
import requests
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from core.testing import requires_postgres
from courses.tests.factories import CourseFactory
from tests.faults.kit import PrivatePostgres, gunicorn, private_postgres, production_env
from tests.faults.test_redis_down import post_with_csrf, shared_database_url, signed_in

pytestmark = [requires_postgres, pytest.mark.services, pytest.mark.django_db(transaction=True)]

NEWCOMER = "erin@example.com"


def wait_for_lock_wait(url: str, seconds: float = 20) -> None:
    """Wait until some query on the server waits for a lock."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0]:
                return
            time.sleep(0.05)
    raise TimeoutError("no query started waiting for the lock")


def count(server: PrivatePostgres, sql: str, *params: object) -> int:
    with psycopg.connect(server.url("lectern"), autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def test_workers_recover_and_an_interrupted_write_leaves_nothing(alice: User) -> None:
    course = CourseFactory.create(teacher=alice, slug="choir", capacity=5)
    browser = signed_in(alice)  # the session row is copied with the rest
    with private_postgres() as database:
        database.copy_database(shared_database_url(), "lectern")
        env = production_env(DATABASE_URL=database.url("lectern"), SECRET_KEY=settings.SECRET_KEY)
        with gunicorn(env) as server:
            roster = server.url(reverse("courses:roster", args=[course.slug]))
            for _ in range(6):  # every worker opens its pooled connection
                assert browser.get(roster, allow_redirects=False, timeout=10).status_code == 200
            workers = server.worker_pids()

            # Adding a newcomer writes their account, their enrolment and an email, in one
            # transaction. The outbox table is held locked, so the request stops after the
            # first rows, and the server restarts under it.
            answers: list[requests.Response] = []
            # Closed, not left through `with`: the restart ends its session too.
            holder = psycopg.connect(database.url("lectern"))
            holder.execute("LOCK TABLE outbox_outboundemail IN ACCESS EXCLUSIVE MODE")
            sender = threading.Thread(
                target=lambda: answers.append(
                    post_with_csrf(
                        browser,
                        server,
                        reverse("courses:add_student", args=[course.slug]),
                        {"email": NEWCOMER, "first_name": "Erin", "last_name": "Example"},
                    )
                )
            )
            sender.start()
            wait_for_lock_wait(database.url("lectern"))
            database.restart()
            sender.join(timeout=30)

            holder.close()

            [interrupted] = answers
            assert interrupted.status_code == 503
            assert interrupted.headers["Retry-After"].isdigit()
            assert "back in a moment" in interrupted.text
            assert (
                count(database, "SELECT count(*) FROM accounts_user WHERE email = %s", NEWCOMER)
                == 0
            )
            assert (
                count(
                    database,
                    "SELECT count(*) FROM courses_enrollment e"
                    " JOIN courses_course c ON c.id = e.course_id WHERE c.slug = %s",
                    course.slug,
                )
                == 0
            )
            assert count(database, "SELECT count(*) FROM outbox_outboundemail") == 0

            # The same workers, no restart: every request answers again.
            statuses = [
                browser.get(roster, allow_redirects=False, timeout=10).status_code for _ in range(8)
            ]
            assert statuses == [200] * 8
            assert server.worker_pids() == workers
            assert requests.get(server.url("/healthz"), timeout=10).status_code == 200

            # And the same write, sent again, goes through whole.
            again = post_with_csrf(
                browser,
                server,
                reverse("courses:add_student", args=[course.slug]),
                {"email": NEWCOMER, "first_name": "Erin", "last_name": "Example"},
            )
            assert again.status_code == 302
            assert (
                count(database, "SELECT count(*) FROM accounts_user WHERE email = %s", NEWCOMER)
                == 1
            )
            assert "service.unavailable" in server.log()
