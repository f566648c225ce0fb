from django.apps import AppConfig

from billing import metering


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "Course AI"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from ai import client, services

        # Billing sits below this app: the plan page counts AI units through its meter hook.
        metering.provide("ai", services.units_since, available=client.configured)
