"""`make run` tells the app the address it serves, so emailed links name the right port."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

# Stands in for the virtualenv's python: records what each manage.py command saw.
STUB = """#!/bin/sh
echo "$* SITE_URL=$SITE_URL" >> "$CALLS"
"""


def make_run(tmp_path: Path, *args: str, **env: str) -> list[str]:
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    calls = tmp_path / "calls"
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SITE_URL", "PORT", "REDIS_URL", "MAKEFLAGS", "MFLAGS")
    }
    environ.update(CALLS=str(calls), **env)
    # Installing is not what is tested here: take the environment as made.
    skip_install = ["-o", "python-env"]
    skip_install += ["-o", "static/vendor/htmx.min.js", "-o", "static/vendor/livekit-client.umd.js"]
    subprocess.run(
        ["make", "-s", *skip_install, "run", *args, f"PY={stub}"],
        cwd=ROOT,
        env=environ,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return calls.read_text().splitlines()


def served(calls: list[str]) -> str:
    [line] = [line for line in calls if "runserver" in line]
    return line


def test_it_derives_site_url_from_the_port(tmp_path: Path) -> None:
    calls = make_run(tmp_path, "PORT=8123")

    assert "runserver 127.0.0.1:8123" in served(calls)
    assert served(calls).endswith("SITE_URL=http://127.0.0.1:8123")
    assert all(line.endswith("SITE_URL=http://127.0.0.1:8123") for line in calls), calls


def test_it_keeps_a_site_url_that_is_set(tmp_path: Path) -> None:
    calls = make_run(tmp_path, "PORT=8123", SITE_URL="https://lectern.example.com")

    assert served(calls).endswith("SITE_URL=https://lectern.example.com")


def test_it_uses_the_default_port_when_none_is_given(tmp_path: Path) -> None:
    calls = make_run(tmp_path)

    assert served(calls).endswith("SITE_URL=http://127.0.0.1:8000")


def test_it_treats_an_empty_site_url_as_unset(tmp_path: Path) -> None:
    calls = make_run(tmp_path, "PORT=8123", SITE_URL="")

    assert served(calls).endswith("SITE_URL=http://127.0.0.1:8123")
