from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        # Register every app's tasks, so services can enqueue them by name (core.jobs).
        autodiscover_modules("tasks")
