"""A worker killed in the middle of an export: the export still finishes, with one email."""

import io
import zipfile

import pytest
from django.contrib.auth import get_user_model

from bench.seed_privacy import seed_account
from core.testing import requires_postgres, requires_redis
from privacy import export
from privacy.models import ExportRequest
from privacy.tests.worker import Worker, celery_worker  # noqa: F401 (a fixture)
from tests.base import StudentFactory, TeacherFactory

pytestmark = [requires_redis, requires_postgres, pytest.mark.django_db(transaction=True)]


def test_it_finishes_once_after_the_pool_process_is_killed(celery_worker: Worker) -> None:  # noqa: F811
    bob = StudentFactory.create(email="bob@example.com", first_name="Bob")
    seed_account(bob, TeacherFactory.create(), messages=60_000, submissions=2_000, files=40)

    made = export.request_export(bob)

    def state() -> str:
        return ExportRequest.objects.values_list("state", flat=True).get(pk=made.pk)

    celery_worker.wait_for(lambda: state() == ExportRequest.State.RUNNING, timeout=20)
    killed = celery_worker.kill_pool_child()
    celery_worker.wait_for(
        lambda: state() == ExportRequest.State.READY and bool(celery_worker.emails()),
        timeout=45,
        every=0.2,
    )
    made.refresh_from_db()
    assert made.attempts == 2, "the killed build should have been redelivered once"
    assert set(celery_worker.pool_children()).isdisjoint(killed)
    emails = celery_worker.emails()
    assert len(emails) == 1
    assert "Your data is ready" in emails[0].read_text()
    with made.file.open("rb") as handle:
        zf = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert zf.testzip() is None
    assert {"README.json", "index.html"} <= set(zf.namelist())
    assert get_user_model().objects.filter(pk=bob.pk).exists()
