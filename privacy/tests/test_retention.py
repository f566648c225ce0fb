"""The retention sweep engine: batches, a moving cursor, resumable runs, isolated failures."""

import datetime as dt
import itertools
import logging
from typing import Any

import pytest
from celery.schedules import crontab
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from config.celery import app
from notifications.models import Kind, Notification
from privacy import retention
from privacy.registry import Retention, Rule, registry

_serial = itertools.count()


def _notifications(user: User, n: int, *, title: str) -> list[int]:
    rows = Notification.objects.bulk_create(
        Notification(
            recipient=user,
            kind=Kind.ANNOUNCEMENT,
            title=title,
            dedupe_key=f"retention-{next(_serial)}",
        )
        for _ in range(n)
    )
    return [row.pk for row in rows]


def _stale() -> QuerySet:
    return Notification.objects.filter(title="stale")


def _rule(**retention: object) -> Rule:
    return Rule("Test rule", "Notifications titled stale", Retention("Test", **retention))  # type: ignore[arg-type]


@pytest.mark.django_db
def test_it_works_through_expired_rows_in_batches(bob: User) -> None:
    _notifications(bob, 7, title="stale")
    fresh = _notifications(bob, 2, title="fresh")
    outcome = retention.sweep_rule(_rule(expired=_stale), batch_size=3)
    assert (outcome.rows, outcome.batches) == (7, 3)
    assert outcome.slowest_batch_seconds > 0
    assert not _stale().exists()
    assert sorted(Notification.objects.values_list("pk", flat=True)) == fresh


@pytest.mark.django_db
def test_it_counts_what_a_dry_run_would_remove_without_removing_it(bob: User) -> None:
    _notifications(bob, 4, title="stale")
    assert retention.expired_count(_rule(expired=_stale)) == 4
    assert retention.expired_count(_rule()) == 0
    assert _stale().count() == 4


@pytest.mark.django_db
def test_it_takes_the_rows_an_interrupted_run_left_next_time(bob: User) -> None:
    _notifications(bob, 10, title="stale")
    calls = 0

    def purge_then_die(batch: QuerySet) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("worker killed")
        deleted, _ = batch.delete()
        return deleted

    outcome = retention.RuleOutcome("Test rule", "Test")
    with pytest.raises(RuntimeError):
        retention.sweep_rule(
            _rule(expired=_stale, purge=purge_then_die), batch_size=3, outcome=outcome
        )
    # The two batches before the failure are committed; the failed one rolled back whole.
    assert (outcome.rows, outcome.batches) == (6, 2)
    assert _stale().count() == 4
    again = retention.sweep_rule(_rule(expired=_stale), batch_size=3)
    assert again.rows == 4
    assert not _stale().exists()


@pytest.mark.django_db
def test_it_moves_past_rows_a_purge_keeps(bob: User) -> None:
    ids = _notifications(bob, 7, title="stale")
    touched: list[int] = []

    def anonymise(batch: QuerySet) -> int:
        # The rows still match the rule afterwards: only the cursor ends the loop.
        touched.extend(batch.values_list("pk", flat=True))
        return batch.update(body="")

    outcome = retention.sweep_rule(_rule(expired=_stale, purge=anonymise), batch_size=2)
    assert outcome.rows == 7
    assert outcome.batches == 4
    assert sorted(touched) == ids


@pytest.mark.django_db
def test_it_keeps_sweeping_the_other_rules_when_one_fails(
    bob: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _notifications(bob, 3, title="stale")

    def broken() -> QuerySet:
        raise RuntimeError("the rule's query is wrong")

    monkeypatch.setitem(
        registry.rules, "A broken rule", Rule("A broken rule", "x", Retention("x", expired=broken))
    )
    monkeypatch.setitem(
        registry.rules,
        "Stale notifications",
        Rule("Stale notifications", "x", Retention("x", expired=_stale)),
    )
    with caplog.at_level(logging.INFO, logger="privacy.retention"):
        results = retention.sweep_all()
    assert results["A broken rule"] == -1
    assert results["Stale notifications"] == 3
    assert not _stale().exists()
    failed = [r for r in caplog.records if r.getMessage() == "retention sweep failed"]
    assert [r.rule for r in failed] == ["A broken rule"]  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_it_logs_the_rows_and_batches_of_each_rule(
    bob: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _notifications(bob, 5, title="stale")
    monkeypatch.setitem(
        registry.rules,
        "Stale notifications",
        Rule("Stale notifications", "x", Retention("x", expired=_stale)),
    )
    with caplog.at_level(logging.INFO, logger="privacy.retention"):
        retention.sweep_all(batch_size=2)
    swept = {
        r.rule: r  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "retention rule swept"
    }
    assert (swept["Stale notifications"].rows, swept["Stale notifications"].batches) == (5, 3)  # type: ignore[attr-defined]
    assert set(swept) == {e.label for e in registry.retention_rules() if e.retention.swept}


@pytest.mark.django_db
def test_it_sweeps_old_notifications_through_the_registry_rule(bob: User) -> None:
    old = timezone.now() - dt.timedelta(days=400)
    Notification.objects.filter(pk__in=_notifications(bob, 3, title="old")).update(created_at=old)
    kept = _notifications(bob, 1, title="new")
    results = retention.sweep_all(batch_size=2)
    assert results["notifications.Notification"] == 3
    assert list(Notification.objects.values_list("pk", flat=True)) == kept


def test_it_runs_the_sweep_at_least_every_quarter_hour() -> None:
    schedule = app.conf.beat_schedule["sweep-retention"]["schedule"]
    assert isinstance(schedule, crontab)
    fields: Any = schedule  # crontab sets its parsed fields in __init__
    assert fields.hour == set(range(24))
    minutes = sorted(fields.minute)
    gaps = [b - a for a, b in itertools.pairwise([*minutes, minutes[0] + 60])]
    assert max(gaps) <= 15
