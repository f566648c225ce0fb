"""The embedded default serves several signed-in people at once without "database is locked".

A real development server (what `make run` starts) on a SQLite file, and a few
browsers clicking at the same time. Every signed-in request used to write the
session's "last seen" time, and SQLite's deferred transactions then failed each
other instead of waiting their turn.
"""

import concurrent.futures
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PAGES = [
    "/dashboard/",
    "/notifications/",
    "/messages/",
    "/messages/unread/",
    "/settings/sessions/",
    "/courses/",
    "/settings/privacy/",
]
CLIENTS = 8
REQUESTS_EACH = 25

# Runs in `manage.py shell`: people with a signed-in session each; prints the session keys.
MAKE_SESSIONS = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from tests.base import StudentFactory
for n in range({clients}):
    person = StudentFactory.create(email=f"reader{{n}}@example.com")
    store = SessionStore()
    store[SESSION_KEY] = str(person.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = person.get_session_auth_hash()
    store.create()
    print("session", store.session_key)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
        **kwargs,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, list[str], Path]]:
    """Start `runserver` on a fresh SQLite file; yield its address, session keys and log."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_FORMAT="text",
    )
    manage(env, "migrate", "--noinput")
    printed = manage(env, "shell", "-c", MAKE_SESSIONS.format(clients=CLIENTS)).stdout
    keys = [line.split()[1] for line in printed.splitlines() if line.startswith("session ")]
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)  # waiting for a process to listen, not for the clock
        else:
            pytest.fail("the development server did not start:\n" + log.read_text())
        yield base, keys, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def browse(base: str, session_key: str) -> list[int]:
    """Click through the pages as one signed-in person; return the status of each answer."""
    opener = urllib.request.build_opener(NoRedirects)
    statuses = []
    for n in range(REQUESTS_EACH):
        request = urllib.request.Request(
            base + PAGES[n % len(PAGES)], headers={"Cookie": f"sessionid={session_key}"}
        )
        try:
            with opener.open(request, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_it_serves_signed_in_people_at_once_without_errors(
    server: tuple[str, list[str], Path],
) -> None:
    base, keys, log = server
    assert len(keys) == CLIENTS

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda key: browse(base, key), keys))

    statuses = [status for result in results for status in result]
    failed = [status for status in statuses if status >= 500]
    assert not failed, f"{len(failed)} of {len(statuses)} failed:\n" + log.read_text()[-4000:]
    assert set(statuses) == {200}, sorted(set(statuses))
