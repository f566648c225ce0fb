"""Reach an app's Celery tasks by name, so services never import their tasks module.

A task loads its row and calls a service, so an app's `tasks.py` imports its
services; a service that enqueues work names the task instead of importing it
back, and imports go one way. Every app's `tasks.py` is imported when Django
starts (`CoreConfig.ready`), so a name resolves in web processes and workers
alike, and inline mode (no broker) still runs the task at once.
"""

from celery import Task, current_app


def task(name: str) -> Task:
    """Return the registered task called `name`, e.g. "privacy.tasks.build_export_task".

    Raise KeyError for a name no app registers: a typo fails loudly in tests.
    """
    return current_app.tasks[name]


def run_inline() -> bool:
    """Say whether tasks run at once in the process that enqueues them (no broker)."""
    return bool(current_app.conf.task_always_eager)
