"""The import contracts in pyproject.toml cover every app, in the order the project uses.

`make lint` runs the contracts themselves (lint-imports); these tests catch the
contract falling behind the code: an app added without a place in the layers,
or INSTALLED_APPS listing apps in another order than the layers do (app hooks
are set up in that order, and the demo data is seeded in it).
"""

import tomllib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from core import jobs
from messaging import services as messaging_services
from notifications import services as notification_services
from privacy import deletion, export

CONFIG = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text())["tool"][
    "importlinter"
]


def _contract(contract_id: str) -> dict:
    return next(c for c in CONFIG["contracts"] if c["id"] == contract_id)


def _layers_bottom_first() -> list[str]:
    return [layer.strip("()") for layer in reversed(_contract("layers")["layers"])]


def _our_apps() -> list[str]:
    """Return the project's own apps, in INSTALLED_APPS order."""
    return [
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).parent == Path(settings.BASE_DIR)
    ]


def test_it_checks_every_app_of_ours() -> None:
    roots = set(CONFIG["root_packages"])
    missing = [name for name in _our_apps() if name not in roots]
    assert not missing, f"add {missing} to root_packages in pyproject.toml"
    assert set(_contract("vendor-sdks")["source_modules"]) == roots


def test_it_gives_every_app_a_layer() -> None:
    layers = _layers_bottom_first()
    missing = [name for name in [*_our_apps(), "config"] if name not in layers]
    assert not missing, f"place {missing} in the layers contract in pyproject.toml"


def test_it_lists_installed_apps_bottom_layer_first() -> None:
    layers = _layers_bottom_first()
    assert _our_apps() == sorted(_our_apps(), key=layers.index)


@pytest.mark.parametrize(
    "name",
    [
        export.BUILD_TASK,
        deletion.ERASE_TASK,
        notification_services.SEND_EMAIL_TASK,
        messaging_services.NOTIFY_TASK,
    ],
)
def test_it_finds_each_task_services_enqueue_by_name(name: str) -> None:
    assert jobs.task(name).name == name


def test_it_refuses_a_task_name_nobody_registers() -> None:
    with pytest.raises(KeyError):
        jobs.task("privacy.tasks.no_such_task")
