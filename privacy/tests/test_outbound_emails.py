"""Outgoing email as personal data: found by address, exported, erased and swept."""

import datetime as dt

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.utils import timezone

from outbox import services as outbox
from outbox.models import OutboundEmail
from outbox.tests.kit import message
from privacy import retention
from privacy.registry import Registry, Retention, registry
from tests.base import LecternTestCase

ENTRY = OutboundEmail._meta.label


class OutboundEmailPrivacyTests(LecternTestCase):
    def setUp(self) -> None:
        # bob's current address (written in capitals), an address he is adding, and dave's.
        EmailAddress.objects.create(user=self.bob, email="bob.new@example.com", verified=False)
        outbox.enqueue_email(key="a", message=message(to="BOB@example.com", subject="Week 2"))
        outbox.enqueue_email(key="b", message=message(to="bob.new@example.com", subject="Confirm"))
        outbox.enqueue_email(key="c", message=message(to="dave@example.com", subject="Dave's"))

    def test_it_finds_the_emails_to_every_address_of_the_person(self) -> None:
        rows = registry.entries[ENTRY].rows_for(self.bob)
        assert sorted(rows.values_list("key", flat=True)) == ["a", "b"]

    def test_it_exports_what_was_sent_and_when_but_not_the_body(self) -> None:
        records = list(registry.entries[ENTRY].exporter(self.bob))
        assert [r["subject"] for r in records] == ["Week 2", "Confirm"]
        assert set(records[0]) == set(registry.entries[ENTRY].schema)

    def test_it_erases_the_persons_emails_and_no_one_elses(self) -> None:
        assert registry.entries[ENTRY].eraser(self.bob) == 2
        assert list(OutboundEmail.objects.values_list("key", flat=True)) == ["c"]

    def test_it_purges_sent_and_failed_emails_after_30_days(self) -> None:
        now = timezone.now()
        OutboundEmail.objects.filter(key="a").update(state="sent", finished_at=now)
        OutboundEmail.objects.filter(key="b").update(state="failed", finished_at=now)
        # "c" still waits: it is never purged while it may yet be sent.
        with time_machine.travel(now + dt.timedelta(days=29), tick=False):
            retention.sweep_rule(registry.entries[ENTRY])
            assert OutboundEmail.objects.count() == 3
        with time_machine.travel(now + dt.timedelta(days=31), tick=False):
            retention.sweep_rule(registry.entries[ENTRY])
        assert list(OutboundEmail.objects.values_list("key", flat=True)) == ["c"]


def test_it_refuses_rows_found_without_an_exporter_and_eraser_of_their_own() -> None:
    with pytest.raises(ValueError, match="exporter and eraser"):
        Registry().register(
            OutboundEmail,
            category="x",
            purpose="x",
            owner="to_email",
            rows=lambda user: OutboundEmail.objects.none(),
            retention=Retention("x"),
        )
