"""The Celery app: safe defaults for idempotent tasks, one beat schedule, a real worker."""

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult

from config.celery import app
from core.testing import requires_redis
from privacy.tasks import sweep_retention_task


@pytest.fixture(scope="module")
def registered_tasks() -> set[str]:
    """Return every task name, after the autodiscovery a worker does at start-up."""
    app.autodiscover_tasks(force=True)
    return set(app.tasks.keys())


def test_it_speaks_json_only() -> None:
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_it_acknowledges_messages_only_after_the_task_finished() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_it_schedules_the_retention_sweep() -> None:
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}

    assert "privacy.tasks.sweep_retention_task" in scheduled


def test_it_schedules_only_tasks_that_exist(registered_tasks: set[str]) -> None:
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}

    assert scheduled <= registered_tasks, scheduled - registered_tasks


def test_it_registers_the_retention_sweep_as_safe_to_redeliver(
    registered_tasks: set[str],
) -> None:
    task = app.tasks["privacy.tasks.sweep_retention_task"]

    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


@requires_redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("through_the_broker")
def test_it_runs_the_retention_sweep_on_a_real_worker() -> None:
    # The worker runs in a thread of this process, against the test database.
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        result = sweep_retention_task.apply_async(ignore_result=False)
        outcome = result.get(timeout=30)

    assert isinstance(result, AsyncResult)
    assert result.successful()
    assert isinstance(outcome, dict)
    failed = {label: count for label, count in outcome.items() if count < 0}
    assert not failed, f"sweeps failed on the worker: {failed}"
