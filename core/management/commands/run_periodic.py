"""Run the beat schedule's periodic jobs inline, for machines without Redis and Celery beat.

`make run` starts this next to the development server. It reads the one list
of periodic jobs (the Celery app's `beat_schedule`, set in `config.celery`) and
asks each schedule, as beat would, whether it is due. Last-run times are kept in a small
JSON file, so a restart neither repeats a job nor forgets one that fell due
while it was stopped; a job never run before is due at once.
"""

import datetime as dt
import json
import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, cast

from celery import current_app as app
from celery.schedules import BaseSchedule, maybe_schedule
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

logger = logging.getLogger("lectern.periodic")

# Wake at least this often, so a changed clock or a long sleep cannot hold jobs back.
MAX_SLEEP_SECONDS = 60.0


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of the Celery beat schedule inline, each when it is due. "
        "For development without Redis; production runs `celery beat`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every job due now, then exit.")
        parser.add_argument(
            "--state",
            default=str(Path(settings.BASE_DIR) / "var" / "periodic-state.json"),
            help="Where to keep each job's last run time (default var/periodic-state.json).",
        )

    def handle(self, *args: Any, once: bool, state: str, **options: Any) -> None:
        app.loader.import_default_modules()
        self.state_path = Path(state)
        self.last_run = self._load_state()
        self.schedules: dict[str, BaseSchedule] = {
            name: cast(BaseSchedule, maybe_schedule(entry["schedule"], app=app))
            for name, entry in app.conf.beat_schedule.items()
        }
        if once:
            self.run_due()
            return
        # An event rather than sleep(): SIGTERM (sent by `make run` when the server stops)
        # wakes the loop at once instead of after the current nap.
        self.stopping = threading.Event()
        signal.signal(signal.SIGTERM, self._stop)
        logger.info("periodic jobs started", extra={"jobs": sorted(self.schedules)})
        try:
            while not self.stopping.is_set():
                wait = self.run_due()
                self.stopping.wait(max(0.5, min(wait, MAX_SLEEP_SECONDS)))
        except KeyboardInterrupt:
            pass
        logger.info("periodic jobs stopped")

    def run_due(self) -> float:
        """Run every job that is due; return the seconds until the next one is."""
        next_in: list[float] = []
        for name, schedule in self.schedules.items():
            due, wait = schedule.is_due(self._last_run_at(name, schedule))
            if due:
                self._run(name)
                _, wait = schedule.is_due(self._last_run_at(name, schedule))
            next_in.append(wait)
        return min(next_in, default=MAX_SLEEP_SECONDS)

    def _run(self, name: str) -> None:
        entry = app.conf.beat_schedule[name]
        started = time.perf_counter()
        try:
            task = app.tasks[entry["task"]]
            task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True)
        except Exception:
            # One broken job must not stop the others; it is tried again when next due.
            logger.exception("periodic job failed", extra={"job": name, "task": entry["task"]})
            self.stderr.write(f"{name}: failed (see the log)")
        else:
            ms = round((time.perf_counter() - started) * 1000, 1)
            logger.info("periodic job ran", extra={"job": name, "duration_ms": ms})
            self.stdout.write(f"{name}: ran in {ms} ms")
        self.last_run[name] = app.now()
        self._save_state()

    def _last_run_at(self, name: str, schedule: BaseSchedule) -> dt.datetime:
        if name in self.last_run:
            return self.last_run[name]
        # Never run here before: due at once (a day back is before any schedule's next time).
        return schedule.maybe_make_aware(app.now() - dt.timedelta(days=1))

    def _load_state(self) -> dict[str, dt.datetime]:
        try:
            raw = json.loads(self.state_path.read_text(encoding="utf-8"))
            return {name: dt.datetime.fromisoformat(at) for name, at in raw.items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def _save_state(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        data = {name: at.isoformat() for name, at in self.last_run.items()}
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(self.state_path)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()
