"""The fuzz suite's Hypothesis profile, its world, and the count of cases it ran.

The profile is deterministic (`derandomize`) and keeps no example database, so
CI runs the same cases every time and nothing is written into the tree
(Hypothesis's own cache goes to the temporary directory).
`LECTERN_FUZZ_SCALE=10` multiplies the number of cases for a longer local run
(then without `derandomize`, so each run tries new ones).
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

# Hypothesis caches what it learns from source files; keep that out of the project tree.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "lectern-hypothesis")
)

SCALE = max(1, int(os.environ.get("LECTERN_FUZZ_SCALE", "1")))

settings.register_profile(
    "lectern-fuzz",
    derandomize=SCALE == 1,
    database=None,
    deadline=None,
    print_blob=False,
    # Failures are collected and reported all at once (URL, person, input), not shrunk.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """Build the world once for the module, in a transaction rolled back at its end.

    The outside services are local stand-ins for the module (tests.fuzz.stand_ins),
    so the live and AI pages read their input instead of answering "not set up".
    """
    from django.db import transaction

    from tests.fuzz.stand_ins import stand_ins
    from tests.fuzz.world import World

    with django_db_blocker.unblock(), stand_ins() as services:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield World(services)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many generated cases the fuzz tests sent, so the figure can be quoted."""
    reports = terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
    total = sum(
        value
        for report in reports
        for name, value in getattr(report, "user_properties", [])
        if name == "fuzz_cases"
    )
    if total:
        terminalreporter.write_sep(
            "-", f"fuzz: {total} generated requests sent, 5xx counted as failures"
        )
