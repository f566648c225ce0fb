from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "Course AI"

    def ready(self) -> None:
        # Billing sits below this app: the plan page counts AI units through its meter hook.
        from ai import services
        from billing import metering

        metering.provide("ai", services.units_since)
