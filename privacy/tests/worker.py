"""A real Celery worker in a subprocess, on Redis, against the test database.

For tests that prove a task survives its worker dying: start the worker, let
the test enqueue a task (with eager mode off), SIGKILL the pool child running
it, and watch the master requeue the message (`reject_on_worker_lost`) and a
fresh child finish it. Emails the worker sends are written as files, one per
message, so a test can count them.

Needs REDIS_URL and PostgreSQL (a worker in another process can't see an
in-memory SQLite database): mark such tests `requires_redis` and
`requires_postgres`, and use `transaction=True` so the worker sees the rows.

    from privacy.tests.worker import celery_worker  # noqa: F401 (a fixture)

    @pytest.mark.django_db(transaction=True)
    def test_it_survives(celery_worker: Worker) -> None:
        ...
        celery_worker.wait_for(lambda: row_is_running(), timeout=20)
        celery_worker.kill_pool_child()
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")

_SETTINGS = """\
from config.settings import *  # noqa: F403

DATABASES["default"]["NAME"] = {database!r}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = {email_dir!r}
"""


class Worker:
    """A running `celery worker --pool=prefork --concurrency=1` process."""

    def __init__(self, process: subprocess.Popen[bytes], folder: Path) -> None:
        self.process = process
        self.folder = folder
        self.email_dir = folder / "emails"
        self.log = folder / "worker.log"

    def pool_children(self) -> list[int]:
        """Return the pids of the worker's pool processes (the ones that run tasks)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended while we looked
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def kill_pool_child(self) -> list[int]:
        """SIGKILL every pool child, as the kernel's OOM killer would; return their pids."""
        pids = self.pool_children()
        assert pids, "the worker has no pool process to kill"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def emails(self) -> list[Path]:
        """Return the files of the emails sent so far (one per message)."""
        return sorted(self.email_dir.glob("*.log"))

    def wait_for(
        self, condition: Callable[[], bool], *, timeout: float, every: float = 0.05
    ) -> None:
        """Poll `condition` until true; fail with the worker's log after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.tail()}")
            time.sleep(every)
        pytest.fail(f"gave up waiting after {timeout} s; worker log:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_worker(
    folder: Path,
    *,
    database: str,
    ready_timeout: float = 30,
    queues: str = "celery",
    pool: str = "prefork",
    concurrency: int = 1,
    extra_settings: str = "",
) -> Worker:
    """Start a worker whose settings point at `database`; return once it takes tasks.

    `queues`, `pool` and `concurrency` are the worker's options (the AI answers'
    worker is `queues="ai", pool="threads"`); `extra_settings` is appended to its
    settings module (Python), for a setting the test process overrides too.
    """
    (folder / "emails").mkdir(parents=True, exist_ok=True)
    (folder / "worker_settings.py").write_text(
        _SETTINGS.format(database=database, email_dir=str(folder / "emails")) + extra_settings
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "worker_settings",
        "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
    }
    log = (folder / "worker.log").open("wb")
    process = subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            f"--queues={queues}",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Worker(process, folder)
    try:
        worker.wait_for(lambda: " ready." in worker.tail(), timeout=ready_timeout, every=0.1)
    except BaseException:
        worker.stop()
        raise
    return worker


@pytest.fixture
def celery_worker(transactional_db: None, tmp_path: Path) -> Iterator[Worker]:
    """Run a real worker for one test, with tasks sent to Redis instead of run inline."""
    from config.celery import app

    if not settings.REDIS_URL:
        pytest.skip("needs a real Redis: set REDIS_URL")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    worker = start_worker(tmp_path / "worker", database=connection.settings_dict["NAME"])
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.task_always_eager = eager
