"""GET /metrics: what Prometheus scrapes, only with the token, only when switched on."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from celery import Task
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from config.handlers import Handler
from core import metrics
from core.testing import requires_postgres, requires_redis
from outbox.models import OutboundEmail
from outbox.tasks import requeue_due_emails_task
from privacy.tests.worker import Worker, start_worker
from tests.base import StaffFactory

TOKEN = "a-long-random-metrics-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(settings.BASE_DIR)


@celery_app.task(bind=True, name="core.tests.test_metrics.flaky_task", max_retries=3)
def flaky_task(self: Task) -> str:
    """Fail once with a retry, then succeed: a task whose first try hits a hiccup."""
    if self.request.retries < 1:
        raise self.retry(countdown=0)
    return "done"


@celery_app.task(name="core.tests.test_metrics.broken_task")
def broken_task() -> None:
    raise RuntimeError("this task always fails")


def scrape(client: Client | None = None) -> str:
    response = (client or Client()).get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """Return one sample's value from an exposition, 0 when it isn't there."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


@pytest.fixture
def metrics_on() -> Iterator[None]:
    with override_settings(METRICS_TOKEN=TOKEN):
        yield


# --- Who may read it --------------------------------------------------------------------------


def test_it_is_off_by_default(client: Client) -> None:
    assert settings.METRICS_TOKEN == ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.usefixtures("metrics_on")
@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        TOKEN,
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
    ],
)
def test_it_hides_itself_without_the_right_token(header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}

    response = Client().get("/metrics", headers=headers)

    assert response.status_code == 404
    assert b"lectern_" not in response.content


def test_it_refuses_to_start_with_a_guessable_token() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "x" * 50, "METRICS_TOKEN": "short"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "METRICS_TOKEN must be at least 24 characters long" in result.stderr


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_it_hides_itself_from_staff_without_the_token() -> None:
    client = Client()
    client.force_login(StaffFactory.create(is_superuser=True))

    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_it_answers_the_right_token() -> None:
    Client().get("/healthz")

    response = Client().get("/metrics", headers=AUTH)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    assert "# TYPE lectern_http_requests_total counter" in response.content.decode()


@pytest.mark.usefixtures("metrics_on")
def test_it_refuses_other_methods_only_to_the_token_holder() -> None:
    client = Client()

    assert client.post("/metrics", headers=AUTH).status_code == 405
    assert client.generic("DELETE", "/metrics", headers=AUTH).status_code == 405
    assert client.post("/metrics").status_code == 404


# --- Requests ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_it_counts_requests_by_route_name_method_and_status_class() -> None:
    client = Client()
    before = scrape(client)

    client.get("/healthz")
    client.get("/healthz")
    client.post("/healthz")
    client.generic("FROBNICATE", "/healthz")
    client.get("/no-such-page/8f3a9c/")
    after = scrape(client)

    def delta(**labels: str) -> float:
        name = "lectern_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(method="GET", route="healthz", status="2xx") == 2
    assert delta(method="POST", route="healthz", status="4xx") == 1
    assert delta(method="OTHER", route="healthz", status="4xx") == 1
    assert delta(method="GET", route="unmatched", status="4xx") == 1
    # The scrape before counts too, under its own name.
    assert delta(method="GET", route="metrics", status="2xx") == 1
    assert "8f3a9c" not in after
    assert "FROBNICATE" not in after


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_it_times_requests_in_a_histogram() -> None:
    client = Client()
    before = scrape(client)

    client.get("/healthz")
    after = scrape(client)

    name = "lectern_http_request_duration_seconds"
    count = value(after, f"{name}_count", route="healthz")
    assert count - value(before, f"{name}_count", route="healthz") == 1
    assert value(after, f"{name}_bucket", route="healthz", le="+Inf") == count
    assert value(after, f"{name}_sum", route="healthz") > 0
    # A bucket edge at the capacity target, 300 ms.
    assert 'le="0.3"' in after


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_it_counts_webhooks_that_skip_the_middleware() -> None:
    before = scrape()
    url = reverse("billing:stripe_webhook")
    request = RequestFactory().post(url, data="{}", content_type="application/json")
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses.append(status)

    # Not closed: that would end the request and close the test's database connection.
    Handler()(request.environ, cast(Any, start_response))
    after = scrape()

    labels = {"method": "POST", "route": "billing:stripe_webhook", "status": "4xx"}
    assert [status[0] for status in statuses] == ["4"]
    name = "lectern_http_requests_total"
    assert value(after, name, **labels) - value(before, name, **labels) == 1


@pytest.mark.django_db
def test_it_counts_nothing_while_off() -> None:
    with override_settings(METRICS_TOKEN=TOKEN):
        before = scrape()

    Client().get("/healthz")

    with override_settings(METRICS_TOKEN=TOKEN):
        after = scrape()
    name = "lectern_http_requests_total"
    assert value(after, name, route="healthz") == value(before, name, route="healthz")


# --- Tasks and queues -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_it_counts_task_outcomes() -> None:
    before = scrape()

    requeue_due_emails_task.delay()
    # Inline runs that propagate errors (the tests' setting, and the embedded default's) raise
    # into the caller before Celery's failure and retry signals: run these as a worker does.
    flaky_task.apply(throw=False)
    broken_task.apply(throw=False)
    after = scrape()

    def delta(task: str, outcome: str) -> float:
        name = "lectern_celery_tasks_total"
        labels = {"task": task, "outcome": outcome}
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("outbox.tasks.requeue_due_emails_task", "succeeded") == 1
    assert delta("core.tests.test_metrics.flaky_task", "retried") == 1
    assert delta("core.tests.test_metrics.flaky_task", "succeeded") == 1
    assert delta("core.tests.test_metrics.broken_task", "failed") == 1
    assert delta("core.tests.test_metrics.broken_task", "succeeded") == 0


@pytest.mark.django_db
def test_it_counts_no_tasks_while_off() -> None:
    with override_settings(METRICS_TOKEN=TOKEN):
        before = scrape()

    requeue_due_emails_task.delay()

    with override_settings(METRICS_TOKEN=TOKEN):
        after = scrape()
    name, task = "lectern_celery_tasks_total", "outbox.tasks.requeue_due_emails_task"
    assert value(after, name, task=task) == value(before, name, task=task)


@requires_redis
@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on", "through_the_broker")
def test_it_reports_messages_waiting_in_each_queue() -> None:
    assert value(scrape(), "lectern_redis_up") == 1
    assert value(scrape(), "lectern_celery_queue_length", queue="celery") == 0

    for _ in range(3):
        requeue_due_emails_task.delay()
    requeue_due_emails_task.apply_async(queue="ai")
    requeue_due_emails_task.apply_async(priority=9)
    text = scrape()

    assert value(text, "lectern_celery_queue_length", queue="celery") == 4
    assert value(text, "lectern_celery_queue_length", queue="ai") == 1
    assert value(text, "lectern_celery_unacked_messages") == 0


@pytest.fixture
def metrics_worker(transactional_db: None, tmp_path: Path) -> Iterator[Worker]:
    """A real worker in another process, with metrics on and this module's tasks known."""
    if not settings.REDIS_URL:
        pytest.skip("needs a real Redis: set REDIS_URL")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    worker = start_worker(
        tmp_path / "worker",
        database=connection.settings_dict["NAME"],
        extra_settings=f"METRICS_TOKEN = {TOKEN!r}\nCELERY_IMPORTS = [{__name__!r}]\n",
    )
    try:
        yield worker
    finally:
        worker.stop()
        celery_app.conf.task_always_eager = eager


@requires_redis
@requires_postgres
@pytest.mark.usefixtures("metrics_on")
def test_it_counts_tasks_a_worker_ran_in_another_process(metrics_worker: Worker) -> None:
    requeue_due_emails_task.delay()
    flaky_task.delay()
    broken_task.delay()

    def counted(text: str, task: str, outcome: str) -> bool:
        return value(text, "lectern_celery_tasks_total", task=task, outcome=outcome) == 1

    def all_counted() -> bool:
        text = scrape()
        return (
            counted(text, "outbox.tasks.requeue_due_emails_task", "succeeded")
            and counted(text, "core.tests.test_metrics.flaky_task", "retried")
            and counted(text, "core.tests.test_metrics.flaky_task", "succeeded")
            and counted(text, "core.tests.test_metrics.broken_task", "failed")
        )

    metrics_worker.wait_for(all_counted, timeout=30, every=0.2)


@pytest.mark.django_db
def test_it_counts_tasks_in_the_web_process_without_redis() -> None:
    # The embedded default: tasks run inline in the process that serves the page.
    with override_settings(METRICS_TOKEN=TOKEN, REDIS_URL=""):
        before = scrape()
        requeue_due_emails_task.delay()
        after = scrape()

    name, task = "lectern_celery_tasks_total", "outbox.tasks.requeue_due_emails_task"
    assert value(after, name, task=task) - value(before, name, task=task) == 1
    assert "lectern_celery_queue_length" not in after


# Nothing listens on port 1, so a connection there is refused at once.
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.mark.django_db
def test_it_keeps_working_while_redis_is_down() -> None:
    with override_settings(
        METRICS_TOKEN=TOKEN, REDIS_URL="redis://127.0.0.1:1/0", CACHES=UNREACHABLE_CACHE
    ):
        requeue_due_emails_task.delay()  # its count is lost, the task is not
        text = scrape()

    assert value(text, "lectern_redis_up") == 0
    assert "lectern_outbox_emails" in text


# --- Rows and the database --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_it_reports_emails_waiting_and_given_up() -> None:
    an_hour_ago = timezone.now() - timedelta(hours=1)
    for n, state in enumerate(["pending", "pending", "failed", "sent"]):
        OutboundEmail.objects.create(
            key=f"metrics:{n}",
            to_email=f"person{n}@example.com",
            from_email="no-reply@example.com",
            subject="Hello",
            state=state,
            created_at=an_hour_ago,
        )

    text = scrape()

    assert value(text, "lectern_outbox_emails", state="pending") == 2
    assert value(text, "lectern_outbox_emails", state="failed") == 1
    assert value(text, "lectern_outbox_emails", state="sending") == 0
    assert 3600 <= value(text, "lectern_outbox_oldest_pending_seconds") < 3700


@requires_postgres
@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_it_reports_the_database_pool() -> None:
    metrics.sample_process()

    text = scrape()

    assert (
        value(text, "lectern_db_pool_connections", state="max")
        == settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    )
    assert value(text, "lectern_db_pool_connections", state="open") >= 1


# --- Several processes --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker_pids(master: int) -> set[int]:
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:
            pids.add(int(stat.parent.name))
    return pids


def _get(url: str, headers: dict[str, str] | None = None) -> str:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def _wait_for(condition: Callable[[], object], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"gave up after {timeout} s; gunicorn said:\n{log.read_text()[-3000:]}")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux's /proc to find the workers")
def test_it_adds_up_every_gunicorn_worker_including_replaced_ones(tmp_path: Path) -> None:
    """Two workers answer, then both die and are replaced: the scrape still holds every request."""
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        PORT=str(port),
        WEB_CONCURRENCY="2",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                "config/gunicorn.py",
                "--bind",
                f"127.0.0.1:{port}",
                "config.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(
            lambda: len(_worker_pids(server.pid)) == 2 and _get(f"{base}/csrf-token/"), 30, log
        )
        first = _worker_pids(server.pid)
        for _ in range(4):
            _get(f"{base}/csrf-token/")
        # Killed as the kernel's OOM killer would: the master starts two new workers.
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: len(_worker_pids(server.pid) - first) == 2, 30, log)
        for _ in range(5):
            _get(f"{base}/csrf-token/")

        text = _get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
    finally:
        server.send_signal(signal.SIGINT)  # quick shutdown
        server.wait(timeout=30)

    name = "lectern_http_requests_total"
    assert value(text, name, method="GET", route="csrf_token", status="2xx") == 10
    # The killed workers' counts live on in one archive file; their own files are gone.
    files = {path.name for path in (tmp_path / "metrics").glob("*.db")}
    assert {"counter_archive.db", "histogram_archive.db"} <= files
    assert not {f"counter_{pid}.db" for pid in first} & files
