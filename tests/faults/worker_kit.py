"""Killing a whole Celery worker at a point the test chooses, and the edges it blocks on.

A worker is SIGKILLed as a machine loss or the kernel's OOM killer would do
it: master and pool together, so nobody tells the broker. Its message stays
"unacked" in Redis until the transport's visibility timeout has passed; the
workers started here use a timeout of seconds instead of hours, so the next
worker takes the message back at once.

The point of the kill is made deterministic at the edges, never by changing
our own code: a mail server that holds its greeting (`FakeSMTP`), or a row
lock held from another database connection (`hold`), so the task is known to
be waiting right there when the test kills it (`wait_until_blocked`).
"""

import itertools
import os
import signal
import socketserver
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from config.celery import app
from privacy.tests.worker import Worker, start_worker

# Redelivery after seconds: a message unacked for 3 s is looked for every second.
SHORT_VISIBILITY = """
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": 5,
}
"""


class FakeSMTP:
    """A mail server on 127.0.0.1 that accepts every message, or holds new connections.

    While held, a client that connects waits for the greeting (as with a
    server that hangs); nothing it sends later counts until a message's DATA
    is complete and answered 250.
    """

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.connections = 0
        self._open = threading.Event()
        self._open.set()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeSMTP":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def settings(self) -> str:
        """Return worker settings that send email through this server."""
        return (
            'EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"\n'
            f'EMAIL_HOST = "127.0.0.1"\nEMAIL_PORT = {self.port}\n'
            'EMAIL_HOST_USER = ""\nEMAIL_HOST_PASSWORD = ""\n'
            "EMAIL_USE_TLS = False\nEMAIL_USE_SSL = False\nEMAIL_TIMEOUT = 30\n"
        )

    def _connected(self) -> bool:
        with self._lock:
            self.connections += 1
        while not self._open.wait(0.05):
            if self._closing.is_set():
                return False
        return True

    def _received(self, data: bytes) -> None:
        with self._lock:
            self.messages.append(data)


class _SMTPHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        fake: FakeSMTP = self.server.fake  # type: ignore[attr-defined]
        if not fake._connected():
            return
        try:
            self._converse(fake)
        except OSError:
            return  # the client went away (killed): whatever it was sending never arrived

    def _converse(self, fake: FakeSMTP) -> None:
        self._say("220 fake.example ESMTP")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self._say("250-fake.example", "250 8BITMIME")
            elif verb == b"DATA":
                self._say("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                if chunk != b".\r\n":
                    return
                self._say("250 queued")
                fake._received(data)
            elif verb == b"QUIT":
                self._say("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self._say("250 ok")

    def _say(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())
        self.wfile.flush()


class Rig:
    """Start workers for one test and kill them whole; stop what is left at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = connection.settings_dict["NAME"]
        self.workers: list[Worker] = []
        self._starter = ThreadPoolExecutor(max_workers=1)
        self._names = itertools.count(1)

    def start(self, extra_settings: str = "", *, name: str = "", **options: Any) -> Worker:
        """Start a worker with a visibility timeout of seconds (`options`: see `start_worker`)."""
        folder = self.folder / (name or f"worker{next(self._names)}")
        worker = start_worker(
            folder,
            database=self.database,
            extra_settings=SHORT_VISIBILITY + extra_settings,
            **options,
        )
        self.workers.append(worker)
        return worker

    def start_spare(self, extra_settings: str = "", **options: Any) -> "Future[Worker]":
        """Start, in the background, a worker that consumes nothing yet (see `take_over`).

        Starting the next worker while the test sets up and kills the first halves its wait.
        """
        name = f"spare{next(self._names)}"
        options["queues"] = f"standby-{name}"
        return self._starter.submit(self.start, extra_settings, name=name, **options)

    def take_over(self, spare: "Future[Worker]", queue: str = "celery") -> Worker:
        """Have the spare worker consume `queue`, where the killed worker's message comes back."""
        worker = spare.result(timeout=60)
        replies = app.control.add_consumer(queue, reply=True, timeout=10)
        assert replies, f"the spare worker did not answer; its log:\n{worker.tail()}"
        return worker

    @staticmethod
    def kill(worker: Worker) -> None:
        """SIGKILL the worker's master and pool processes at once, and reap them."""
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)

    def stop_all(self) -> None:
        """Kill what is left: the next test starts from an empty broker anyway."""
        self._starter.shutdown(wait=True)
        for worker in self.workers:
            if worker.process.poll() is None:
                self.kill(worker)


@pytest.fixture
def rig(transactional_db: None, tmp_path: Path) -> Iterator[Rig]:
    """Workers on Redis for one test, with tasks sent to the broker instead of run inline."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    made = Rig(tmp_path)
    try:
        yield made
    finally:
        made.stop_all()
        app.conf.task_always_eager = eager


def waiting_on_locks() -> int:
    """Return how many sessions on the test database are waiting for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def wait_until_blocked(worker: Worker, timeout: float = 30) -> None:
    """Wait until the worker's task waits for a lock this test holds."""
    worker.wait_for(lambda: waiting_on_locks() > 0, timeout=timeout)


@contextmanager
def hold(sql: str, params: tuple[Any, ...] = ()) -> Iterator[None]:
    """Run `sql` in a transaction of another connection and keep it open (its locks held).

    Rolled back at the end, as when the session holding the locks ends.
    """
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
        autocommit=False,
    ) as other:
        other.execute(sql, params)
        try:
            yield
        finally:
            other.rollback()
