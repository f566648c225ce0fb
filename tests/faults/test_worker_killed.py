"""A whole Celery worker SIGKILLed in the middle of each kind of task: it finishes once.

Each test stops a task at a known point (a mail server that doesn't answer, or
a row or table locked from another connection), kills the worker — master and
pool, so the broker is never told — and starts a fresh one. The message comes
back after the transport's visibility timeout (seconds here, see
`worker_kit`), the task runs again and the work is done exactly once: one
email, one processed event, one export file, one erasure.

Where a claim carries a lease (emails, webhook events, erasures), a redelivered
task leaves the work alone until the lease has run out, since it can't tell a
dead holder from a slow one; the tests move the lease into the past to stand
for that wait. (A pool process killed under a live master is requeued at once:
privacy/tests/test_export_worker.py and test_deletion_worker.py.)
"""

import datetime as dt
import time
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from ai import generation
from ai.models import AiRequest
from ai.tests.fake_openai import FakeOpenAI
from bench.seed_privacy import seed_account
from billing.models import Purchase, StripeEvent
from billing.tests.fake_stripe import FakeStripe, post_event
from billing.tests.kit import restore_default_catalogue, seller
from core.testing import requires_postgres, requires_redis
from courses.models import Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import services as live
from live.models import LiveKitEvent, LiveRoom, ParticipantInterval
from live.tests import kit as livekit
from messaging.models import Message
from notifications import delivery as notification_delivery
from notifications import services as notifications
from notifications.models import EmailState, Kind, Notification
from outbox import delivery as outbox_delivery
from outbox import services as outbox
from outbox.models import OutboundEmail
from outbox.tests.kit import message
from privacy import deletion, export, retention
from privacy.models import DeletionRequest, ExportRequest
from privacy.registry import registry
from tests.base import StudentFactory, TeacherFactory
from tests.faults.worker_kit import FakeSMTP, Rig, hold, rig, wait_until_blocked  # noqa: F401

pytestmark = [requires_redis, requires_postgres, pytest.mark.django_db(transaction=True)]

LONG_AGO = dt.timedelta(hours=2)


def emails_about(worker: Any, text: str) -> list[str]:
    """Return the emails a worker wrote to its folder that contain `text`."""
    return [body for path in worker.emails() if text in (body := path.read_text())]


def test_an_email_is_sent_once(rig: Rig) -> None:  # noqa: F811
    with FakeSMTP() as smtp:
        smtp.hold()
        spare = rig.start_spare(smtp.settings())
        first = rig.start(smtp.settings())
        with transaction.atomic():
            queued = outbox.enqueue_email(key="week-2", message=message())
        assert queued is not None
        first.wait_for(lambda: smtp.connections == 1, timeout=20)
        rig.kill(first)
        email = OutboundEmail.objects.get()
        assert (email.state, email.attempts) == (OutboundEmail.State.SENDING, 1)

        smtp.release()
        OutboundEmail.objects.update(lease_until=timezone.now() - outbox_delivery.LEASE)
        second = rig.take_over(spare)
        second.wait_for(
            lambda: OutboundEmail.objects.get().state == OutboundEmail.State.SENT, timeout=30
        )
        assert OutboundEmail.objects.get().attempts == 2
        assert len(smtp.messages) == 1
        assert b"Week 2 is up" in smtp.messages[0]


def test_a_notification_is_emailed_once(rig: Rig) -> None:  # noqa: F811
    bob = StudentFactory.create(email="bob@example.com")
    made = notifications.notify(
        recipient=bob, kind=Kind.GRADE_RETURNED, title="Your essay was graded", dedupe_key="g1"
    )
    assert made is not None
    table = OutboundEmail._meta.db_table
    # Another session inserting the same outbox key: the worker's insert waits on it.
    blocker = (
        f"INSERT INTO {table} (key, to_email, from_email, subject, text, html, headers, state,"
        " attempts, created_at, next_attempt_at, last_error, forget_recipient)"
        " VALUES (%s, '', '', '', '', '', '{}', 'pending', 0, now(), now(), '', false)"
    )
    spare = rig.start_spare()
    with hold(blocker, (f"notification:{made.pk}",)):
        first = rig.start()
        wait_until_blocked(first)
        rig.kill(first)
    assert Notification.objects.get().email_state == EmailState.SENDING
    assert not OutboundEmail.objects.exists()

    Notification.objects.update(
        email_claimed_at=timezone.now() - notification_delivery.STALE_AFTER - LONG_AGO
    )
    second = rig.take_over(spare)
    second.wait_for(lambda: bool(emails_about(second, "Your essay was graded")), timeout=30)
    assert Notification.objects.get().email_state == EmailState.SENT
    assert OutboundEmail.objects.get().state == OutboundEmail.State.SENT
    assert len(emails_about(second, "Your essay was graded")) == 1


def test_a_stripe_payment_is_processed_once(rig: Rig, client: Any) -> None:  # noqa: F811
    restore_default_catalogue()
    alice = TeacherFactory.create()
    bob = StudentFactory.create(email="bob@example.com")
    seller(alice, account_id="acct_test_alice")
    CourseFactory.create(teacher=alice, slug="kiln", price_amount=9000)
    with FakeStripe() as stripe, override_settings(STRIPE_API_BASE=stripe.url):
        stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        client.force_login(bob)
        client.post(reverse("billing:checkout", args=["kiln"]))
        purchase = Purchase.objects.get()
        session = stripe.pay(purchase.checkout_session_id)
        event = stripe.event("checkout.session.completed", session)
        stripe_settings = f"STRIPE_API_BASE = {stripe.url!r}\n"
        lock = f"SELECT 1 FROM {Purchase._meta.db_table} WHERE id = %s FOR UPDATE"
        with hold(lock, (purchase.pk,)):
            assert post_event(client, event).status_code == 200
            spare = rig.start_spare(stripe_settings)
            first = rig.start(stripe_settings)
            wait_until_blocked(first)
            rig.kill(first)
        stored = StripeEvent.objects.get()
        assert (stored.status, stored.attempts) == (StripeEvent.Status.PROCESSING, 1)

        StripeEvent.objects.update(lease_until=timezone.now() - LONG_AGO)
        second = rig.take_over(spare)
        second.wait_for(lambda: bool(emails_about(second, "Your receipt")), timeout=40)
    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == (StripeEvent.Status.DONE, 2)
    assert Enrollment.objects.filter(student=bob, status="active").count() == 1
    assert len(emails_about(second, "Your receipt")) == 1


@livekit.livekit_on
def test_a_livekit_event_is_processed_once(rig: Rig, client: Any) -> None:  # noqa: F811
    room = live.ensure_room(item=CourseItemFactory.create(session=True))
    bob = StudentFactory.create()
    joined = livekit.event(
        "participant_joined",
        "EV_join",
        room=room.name,
        at=1_796_000_000,
        identity=live.identity_for(bob),
        sid="PA_1",
    )
    livekit_settings = (
        f"LIVEKIT_URL = {livekit.URL!r}\nLIVEKIT_API_KEY = {livekit.KEY!r}\n"
        f"LIVEKIT_API_SECRET = {livekit.SECRET!r}\n"
    )
    lock = f"SELECT 1 FROM {LiveRoom._meta.db_table} WHERE id = %s FOR UPDATE"
    with hold(lock, (room.pk,)):
        assert livekit.post_event(client, joined).status_code == 200
        spare = rig.start_spare(livekit_settings)
        first = rig.start(livekit_settings)
        wait_until_blocked(first)
        rig.kill(first)
    stored = LiveKitEvent.objects.get()
    assert (stored.status, stored.attempts) == (LiveKitEvent.Status.PROCESSING, 1)

    LiveKitEvent.objects.update(lease_until=timezone.now() - LONG_AGO)
    second = rig.take_over(spare)
    second.wait_for(
        lambda: LiveKitEvent.objects.get().status == LiveKitEvent.Status.DONE, timeout=30
    )
    assert LiveKitEvent.objects.get().attempts == 2
    interval = ParticipantInterval.objects.get()
    assert (interval.user, interval.left_at) == (bob, None)


def test_an_export_is_built_once(rig: Rig) -> None:  # noqa: F811
    bob = StudentFactory.create(email="bob@example.com")
    seed_account(bob, TeacherFactory.create(), messages=50, submissions=5, files=3)
    storage = ExportRequest._meta.get_field("file").storage
    # Other tests in this process may have left exports of their own in the folder.
    earlier = set(storage.listdir("exports")[1]) if storage.exists("exports") else set()
    made = export.request_export(bob)
    # The build stops when it reaches bob's messages, half-way through the registry.
    spare = rig.start_spare()
    with hold(f"LOCK TABLE {Message._meta.db_table} IN ACCESS EXCLUSIVE MODE"):
        first = rig.start()
        wait_until_blocked(first)
        rig.kill(first)
    assert ExportRequest.objects.get(pk=made.pk).state == ExportRequest.State.RUNNING

    second = rig.take_over(spare)
    second.wait_for(lambda: bool(emails_about(second, "Your data is ready")), timeout=40)
    made.refresh_from_db()
    assert (made.state, made.attempts) == (ExportRequest.State.READY, 2)
    name = str(made.file.name)
    assert made.file.storage.exists(name)
    built = set(storage.listdir("exports")[1]) - earlier
    assert built == {name.removeprefix("exports/")}, "a half-built file was left behind"
    assert len(emails_about(second, "Your data is ready")) == 1


def test_an_erasure_is_done_once(rig: Rig) -> None:  # noqa: F811
    bob = StudentFactory.create(email="bob@example.com", first_name="Bob")
    seed_account(bob, TeacherFactory.create(), messages=50, submissions=5, files=3)
    made = deletion.request_deletion(user=bob)
    DeletionRequest.objects.filter(pk=made.pk).update(erase_after=timezone.now())
    retention.sweep_rule(registry.entries["privacy.DeletionRequest"])  # queues the erasure
    spare = rig.start_spare()
    with hold(f"LOCK TABLE {Message._meta.db_table} IN ACCESS EXCLUSIVE MODE"):
        first = rig.start()
        wait_until_blocked(first)
        rig.kill(first)
    stopped = DeletionRequest.objects.get(pk=made.pk)
    assert stopped.state == DeletionRequest.State.ERASING
    assert stopped.steps, "the kill came before the erasure started"
    assert "accounts.User" not in stopped.steps, "the kill came too late to prove anything"

    DeletionRequest.objects.filter(pk=made.pk).update(
        heartbeat_at=timezone.now() - deletion.STALE_AFTER - LONG_AGO
    )
    second = rig.take_over(spare)
    second.wait_for(lambda: bool(emails_about(second, "Your account has been deleted")), timeout=60)
    done = DeletionRequest.objects.get(pk=made.pk)
    assert done.state == DeletionRequest.State.COMPLETED
    assert set(done.steps) == {entry.label for entry in deletion.erasure_order()}
    assert not type(bob).objects.filter(pk=bob.pk).exists()
    assert len(emails_about(second, "Your account has been deleted")) == 1


def test_an_ai_answer_is_not_asked_for_twice(rig: Rig, alice: User, bob: User) -> None:  # noqa: F811
    fake = FakeOpenAI().start()
    fake.answer = " ".join(f"word{n}" for n in range(40))
    fake.word_seconds = 0.5
    ai_settings = {"AI_BASE_URL": fake.base_url, "AI_API_KEY": "sk-test", "AI_MODEL": "small"}
    options: dict[str, Any] = {"queues": generation.QUEUE, "pool": "threads", "concurrency": 4}
    extra = "".join(f"{name} = {value!r}\n" for name, value in ai_settings.items())
    course = CourseFactory.create(teacher=alice)

    def ask(question: str) -> str:
        return generation.start(
            generation.Request(
                action=AiRequest.Action.ASSISTANT,
                user_id=bob.pk,
                teacher_id=alice.pk,
                course_id=course.pk,
                messages=[{"role": "user", "content": question}],
                max_tokens=100,
                sources=[],
            )
        )

    try:
        with override_settings(**ai_settings):
            spare = rig.start_spare(extra, **options)
            first = rig.start(extra, **options)
            ask("First question")
            first.wait_for(lambda: len(fake.requests) == 1, timeout=20)
            rig.kill(first)
            # A paid answer is not redelivered: the next worker answers only what comes next.
            second = rig.take_over(spare, generation.QUEUE)
            fake.word_seconds = 0
            token = ask("Second question")
            second.wait_for(
                lambda: getattr(generation.state(token, bob), "status", "") == "done", timeout=30
            )
            time.sleep(3)  # the visibility timeout: a message left unacked would be back by now
    finally:
        fake.stop()
    asked = [str(request) for request in fake.requests]
    assert len(asked) == 2
    assert "First question" in asked[0]
    assert "Second question" in asked[1]
