"""`manage.py run_periodic`: the beat schedule's jobs, run inline when each is due."""

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from config.celery import app

ran: list[str] = []


@app.task(name="core.tests.test_run_periodic.note")
def note(label: str) -> None:
    ran.append(label)


@app.task(name="core.tests.test_run_periodic.explode")
def explode() -> None:
    raise RuntimeError("this job is broken")


@pytest.fixture
def schedule(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict]:
    ran.clear()
    jobs = {
        "every-five-minutes": {
            "task": "core.tests.test_run_periodic.note",
            "schedule": dt.timedelta(minutes=5),
            "args": ("five",),
        },
        "broken": {"task": "core.tests.test_run_periodic.explode", "schedule": 60.0},
        "hourly": {
            "task": "core.tests.test_run_periodic.note",
            "schedule": dt.timedelta(hours=1),
            "kwargs": {"label": "hourly"},
        },
    }
    monkeypatch.setitem(app.conf, "beat_schedule", jobs)
    return jobs


def _once(state: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("run_periodic", "--once", "--state", str(state), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_runs_every_job_never_run_before(schedule: dict, tmp_path: Path) -> None:
    _once(tmp_path / "state.json")
    assert sorted(ran) == ["five", "hourly"]


def test_it_does_not_run_a_job_again_before_it_is_due(schedule: dict, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    _once(state)
    ran.clear()
    _once(state)
    assert ran == []


def test_it_runs_a_job_whose_time_has_come(schedule: dict, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    _once(state)
    ran.clear()
    times = json.loads(state.read_text())
    times["every-five-minutes"] = (timezone.now() - dt.timedelta(minutes=6)).isoformat()
    state.write_text(json.dumps(times))
    _once(state)
    assert ran == ["five"]


def test_it_survives_a_failing_job(schedule: dict, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    _out, err = _once(state)
    assert "broken: failed" in err
    assert sorted(ran) == ["five", "hourly"]
    # Tried again when next due, not in a tight loop.
    assert "broken" in json.loads(state.read_text())


def test_it_starts_afresh_from_an_unreadable_state_file(schedule: dict, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("not json")
    _once(state)
    assert sorted(ran) == ["five", "hourly"]
    assert set(json.loads(state.read_text())) == set(schedule)


@pytest.mark.django_db
def test_it_runs_the_real_schedule_including_the_retention_sweep(tmp_path: Path) -> None:
    Session.objects.create(
        session_key="expired0", session_data="", expire_date=timezone.now() - dt.timedelta(days=1)
    )
    out, err = _once(tmp_path / "state.json")
    for name in app.conf.beat_schedule:
        assert f"{name}: ran in" in out
    assert err == ""
    assert not Session.objects.filter(session_key="expired0").exists()
