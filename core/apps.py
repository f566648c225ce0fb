from typing import Any, cast

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        # Register every app's tasks, so services can enqueue them by name (core.jobs).
        autodiscover_modules("tasks")
        # Count task outcomes for /metrics in whichever process runs them (core.metrics).
        from core import metrics

        metrics.connect_task_signals()
        _refuse_unreadable_json_in_admin()
        # `<id:pk>` in URL patterns: an id no database column could hold is a 404.
        from django.urls import register_converter

        from core.converters import IdConverter

        register_converter(IdConverter, "id")


def _refuse_unreadable_json_in_admin() -> None:
    """Give every admin page's JSON fields the field that refuses unreadable JSON (core.forms).

    The admin registered its pages before this app was ready, each with its own copy
    of the field defaults, so each page is given the field here, third-party ones too.
    """
    from django.contrib import admin
    from django.db import models

    from core.forms import JSONField

    for model_admin in admin.site._registry.values():
        # Each page's own dict: BaseModelAdmin.__init__ merged the defaults into a copy.
        overrides = cast("dict[Any, dict[str, Any]]", model_admin.formfield_overrides)
        overrides.setdefault(models.JSONField, {})["form_class"] = JSONField
