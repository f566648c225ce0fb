"""A worker killed in the middle of an erasure: the next run finishes it, with one receipt."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.utils import timezone

from bench.seed_privacy import seed_account
from core.testing import requires_postgres, requires_redis
from files.models import StoredFile
from privacy import deletion, retention
from privacy.models import DeletionRequest
from privacy.registry import registry
from privacy.tests.worker import Worker, celery_worker  # noqa: F401 (a fixture)
from tests.base import StudentFactory, TeacherFactory

pytestmark = [requires_redis, requires_postgres, pytest.mark.django_db(transaction=True)]

State = DeletionRequest.State


def test_it_finishes_once_after_the_pool_process_is_killed(celery_worker: Worker) -> None:  # noqa: F811
    bob = StudentFactory.create(email="bob@example.com", first_name="Bob")
    seed_account(bob, TeacherFactory.create(), messages=60_000, submissions=2_000, files=40)
    blobs = list(StoredFile.objects.filter(uploaded_by=bob).values_list("blob", flat=True))
    made = deletion.request_deletion(user=bob)
    DeletionRequest.objects.filter(pk=made.pk).update(erase_after=timezone.now())

    def current() -> DeletionRequest:
        return DeletionRequest.objects.get(pk=made.pk)

    def sweep() -> None:
        retention.sweep_rule(registry.entries["privacy.DeletionRequest"])

    def receipts() -> list[str]:
        # The worker also sends the "deletion scheduled" email the request queued.
        texts = [email.read_text() for email in celery_worker.emails()]
        return [text for text in texts if "Your account has been deleted" in text]

    sweep()
    celery_worker.wait_for(
        lambda: current().state == State.ERASING and len(current().steps) >= 1, timeout=30
    )
    celery_worker.kill_pool_child()
    stopped = current()
    assert stopped.state == State.ERASING
    assert "accounts.User" not in stopped.steps, "the kill came too late to prove anything"

    # The redelivered task finds a heartbeat too fresh to take over; once it is stale, the
    # retention sweep hands the erasure to a new run, which starts at the first step not done.
    DeletionRequest.objects.filter(pk=made.pk).update(
        heartbeat_at=timezone.now() - deletion.STALE_AFTER - timedelta(seconds=1)
    )
    sweep()
    celery_worker.wait_for(
        lambda: current().state == State.COMPLETED and bool(receipts()),
        timeout=60,
        every=0.2,
    )
    done = current()
    assert done.attempts >= 2
    assert set(done.steps) == {e.label for e in deletion.erasure_order()}
    assert not get_user_model().objects.filter(pk=bob.pk).exists()
    assert [name for name in blobs if default_storage.exists(name)] == []
    assert len(receipts()) == 1
