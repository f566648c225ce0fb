"""Queueing an email: in the caller's transaction, once per key, sent once it commits."""

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction

from outbox import services
from outbox.models import OutboundEmail
from outbox.tests.kit import BrokenMailBackend, broker_down, mail_down, message, run_sweep_later
from tests.base import LecternTestCase


class EnqueueTests(LecternTestCase):
    def test_it_sends_the_email_once_the_transaction_commits(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            email = services.enqueue_email(key="week-2:bob", message=message())
            assert mail.outbox == []
        [sent] = mail.outbox
        assert sent.to == ["bob@example.com"]
        assert sent.subject == "Week 2 is up"
        assert sent.body == "Read chapter 2."
        assert sent.alternatives[0][0] == "<p>Read <b>chapter 2</b>.</p>"  # type: ignore[attr-defined]
        assert email is not None
        email.refresh_from_db()
        assert email.state == OutboundEmail.State.SENT
        assert email.attempts == 1
        assert email.finished_at is not None

    def test_it_sends_nothing_when_the_transaction_rolls_back(self) -> None:
        @transaction.atomic
        def failing_flow() -> None:
            services.enqueue_email(key="week-2:bob", message=message())
            raise RuntimeError("the enrolment failed")

        with self.captureOnCommitCallbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
            failing_flow()
        assert callbacks == []
        assert not OutboundEmail.objects.exists()
        assert mail.outbox == []

    def test_it_queues_one_email_per_key(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            with transaction.atomic():
                first = services.enqueue_email(key="week-2:bob", message=message())
                again = services.enqueue_email(key="week-2:bob", message=message())
                # The duplicate left the caller's transaction usable.
                assert OutboundEmail.objects.count() == 1
            services.enqueue_email(key="week-2:bob", message=message(subject="Changed"))
        assert first is not None
        assert again is None
        assert [m.subject for m in mail.outbox] == ["Week 2 is up"]

    def test_it_keeps_the_senders_headers_and_one_message_id_for_every_attempt(self) -> None:
        headers = {"List-Unsubscribe": "<https://lectern.example/u/abc/>"}
        with mail_down(), self.captureOnCommitCallbacks(execute=True):
            services.enqueue_email(
                key="week-2:bob",
                message=message(
                    headers=headers, from_email="Alice <alice@example.com>", reply_to=["a@x.org"]
                ),
            )
        queued = OutboundEmail.objects.get()
        message_id = queued.headers["Message-ID"]
        run_sweep_later()
        [sent] = mail.outbox
        assert sent.from_email == "Alice <alice@example.com>"
        assert sent.extra_headers["List-Unsubscribe"] == "<https://lectern.example/u/abc/>"
        assert sent.extra_headers["Message-ID"] == message_id
        assert sent.extra_headers["Reply-To"] == "a@x.org"

    def test_it_keeps_a_message_id_the_sender_chose(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            services.enqueue_email(
                key="n:1", message=message(headers={"Message-ID": "<notification-1@lectern>"})
            )
        assert mail.outbox[0].extra_headers["Message-ID"] == "<notification-1@lectern>"

    def test_it_sends_an_html_only_email_as_html(self) -> None:
        html_only = EmailMessage(subject="Hi", body="<p>Hi</p>", to=["bob@example.com"])
        html_only.content_subtype = "html"
        with self.captureOnCommitCallbacks(execute=True):
            services.enqueue_email(key="hi", message=html_only)
        [sent] = mail.outbox
        assert sent.content_subtype == "html"
        assert sent.body == "<p>Hi</p>"

    def test_it_uses_the_default_sender_when_none_is_given(self) -> None:
        services.enqueue_email(key="k", message=message())
        assert OutboundEmail.objects.get().from_email == "Lectern <no-reply@lectern.localhost>"

    def test_it_refuses_what_it_cannot_carry(self) -> None:
        with pytest.raises(ValueError, match="key"):
            services.enqueue_email(key="", message=message())
        with pytest.raises(ValueError, match="key"):
            services.enqueue_email(key="k" * 256, message=message())
        with pytest.raises(ValueError, match="one address"):
            services.enqueue_email(key="k", message=message(cc=["dave@example.com"]))
        with_file = message()
        with_file.attach("notes.txt", "hello", "text/plain")
        with pytest.raises(ValueError, match="attachments"):
            services.enqueue_email(key="k", message=with_file)
        assert not OutboundEmail.objects.exists()


class WhatStaysTests(LecternTestCase):
    def test_it_clears_what_the_email_said_once_it_is_sent(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            services.enqueue_email(key="reset:bob", message=message(subject="Reset, Bob"))
        email = OutboundEmail.objects.get()
        assert (email.subject, email.text, email.html, email.headers) == ("", "", "", {})
        assert email.to_email == "bob@example.com"
        assert email.key == "reset:bob"

    def test_it_keeps_everything_while_the_email_waits(self) -> None:
        with mail_down(), self.captureOnCommitCallbacks(execute=True):
            services.enqueue_email(key="reset:bob", message=message())
        email = OutboundEmail.objects.get()
        assert email.state == OutboundEmail.State.PENDING
        assert email.subject == "Week 2 is up"
        assert email.html

    def test_it_forgets_the_address_once_sent_when_asked(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            services.enqueue_email(key="receipt:1", message=message(), forget_recipient=True)
        assert mail.outbox[0].to == ["bob@example.com"]
        assert OutboundEmail.objects.get().to_email == ""


class OutageTests(LecternTestCase):
    def setUp(self) -> None:
        BrokenMailBackend.attempts = 0

    def test_a_mail_outage_never_reaches_the_caller(self) -> None:
        with (
            mail_down(),
            self.assertLogs("outbox.delivery", "WARNING"),
            self.captureOnCommitCallbacks(execute=True),
        ):
            services.enqueue_email(key="week-2:bob", message=message())
        email = OutboundEmail.objects.get()
        assert email.state == OutboundEmail.State.PENDING
        assert "ConnectionRefusedError" in email.last_error
        assert BrokenMailBackend.attempts == 1
        assert run_sweep_later() == 1
        assert len(mail.outbox) == 1

    def test_a_broker_outage_never_reaches_the_caller_and_loses_nothing(self) -> None:
        with (
            broker_down(),
            self.assertLogs("outbox.services", "ERROR"),
            self.captureOnCommitCallbacks(execute=True),
        ):
            services.enqueue_email(key="week-2:bob", message=message())
        assert OutboundEmail.objects.get().state == OutboundEmail.State.PENDING
        assert mail.outbox == []
        assert run_sweep_later() == 1
        assert len(mail.outbox) == 1
