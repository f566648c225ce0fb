"""`manage.py privacy_sweep`: what each retention rule would remove, or did."""

import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Kind, Notification
from privacy.registry import Retention, Rule, registry

_serial = itertools.count()


def _stale() -> QuerySet:
    return Notification.objects.filter(title="stale")


@pytest.fixture
def stale_rule(bob: User, monkeypatch: pytest.MonkeyPatch) -> Rule:
    Notification.objects.bulk_create(
        Notification(
            recipient=bob, kind=Kind.ANNOUNCEMENT, title="stale", dedupe_key=f"cmd-{next(_serial)}"
        )
        for _ in range(5)
    )
    rule = Rule(
        "Stale test notifications", "Made by this test", Retention("Swept at once", expired=_stale)
    )
    monkeypatch.setitem(registry.rules, rule.name, rule)
    return rule


def _run(*args: str) -> str:
    out = StringIO()
    call_command("privacy_sweep", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_it_counts_without_removing_on_a_dry_run(stale_rule: Rule) -> None:
    out = _run("--dry-run")
    assert "Stale test notifications: Swept at once\n    would remove: 5 rows" in out
    assert _stale().count() == 5


@pytest.mark.django_db
def test_it_lists_every_rule_on_a_dry_run(stale_rule: Rule) -> None:
    out = _run("--dry-run")
    for entry in registry.retention_rules():
        assert f"{entry.label}: {entry.retention.description}" in out
    assert "no sweep" in out  # rules enforced elsewhere say so


@pytest.mark.django_db
def test_it_sweeps_and_reports_rows_batches_and_the_slowest_batch(stale_rule: Rule) -> None:
    out = _run("--batch-size", "2")
    assert (
        "Stale test notifications: Swept at once\n    removed: 5 rows in 3 batches, slowest batch"
        in out
    )
    assert " ms" in out
    assert "Swept 5 rows." in out
    assert not _stale().exists()


@pytest.mark.django_db
def test_it_reports_a_failing_rule_and_still_sweeps_the_others(
    stale_rule: Rule, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> QuerySet:
        raise RuntimeError("bad query")

    monkeypatch.setitem(
        registry.rules,
        "A broken rule",
        Rule("A broken rule", "x", Retention("Never", expired=broken)),
    )
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("privacy_sweep", stdout=out, stderr=StringIO())
    assert exit_.value.code == 1
    assert "FAILED: RuntimeError: bad query" in out.getvalue()
    assert not _stale().exists()


@pytest.mark.django_db
def test_it_refuses_a_batch_size_below_one() -> None:
    with pytest.raises(SystemExit) as exit_:
        call_command("privacy_sweep", "--batch-size", "0", stdout=StringIO(), stderr=StringIO())
    assert exit_.value.code == 2
