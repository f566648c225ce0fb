from django.apps import AppConfig
from django.urls import reverse


def _notify_me_url(course: object) -> str:
    return reverse("crm:notify_me", args=[course.slug])  # type: ignore[attr-defined]


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Students and contacts"

    def ready(self) -> None:
        from crm import signals
        from storefront import interest

        signals.connect()
        interest.provide(url_for=_notify_me_url)
