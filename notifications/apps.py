from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from notifications import subscribers

        subscribers.connect()
