from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Storefront analytics"

    def ready(self) -> None:
        from analytics import subscribers, tasks

        subscribers.connect()
        tasks.connect_local_flush()
