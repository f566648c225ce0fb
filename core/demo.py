"""Demo data for `make run`: each app seeds its own, from the bottom layer up.

An app with demo data has a `demo.py` whose `seed()` creates the app's demo rows
when they are missing, leaves them alone when they are there already, and
returns lines telling the person who ran it what there is to try. The apps are
seeded in INSTALLED_APPS order, which lists them bottom layer first (a test
checks it against the import contracts), so each app finds the demo rows of the
apps below it: courses finds the teacher that accounts created, messaging the
course.
"""

from collections.abc import Callable
from importlib import import_module

from django.apps import apps
from django.db import transaction
from django.utils.module_loading import module_has_submodule

type Seed = Callable[[], list[str]]


def seeders() -> list[tuple[str, Seed]]:
    """Return each app's `(label, demo.seed)`, in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "demo"):
            module = import_module(f"{config.name}.demo")
            seed = getattr(module, "seed", None)
            if callable(seed):
                found.append((config.label, seed))
    return found


@transaction.atomic
def seed_all() -> list[str]:
    """Seed every app's demo data (once: running again adds nothing) and return the lines."""
    lines: list[str] = []
    for _label, seed in seeders():
        lines.extend(seed())
    return lines
