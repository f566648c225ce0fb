from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from messaging import subscribers

        subscribers.connect()
