from django.apps import AppConfig
from django.urls import reverse

from storefront import interest


def _notify_me_url(course: object) -> str:
    return reverse("crm:notify_me", args=[course.slug])  # type: ignore[attr-defined]


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Students and contacts"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from crm import signals

        signals.connect()
        # The storefront sits below this app: "Tell me when it opens" plugs in through its hook.
        interest.provide(url_for=_notify_me_url)
