from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from files import access as file_access
        from messaging import access

        file_access.register_download_rule(
            access.may_download_attachment, related=("message_attachment__message",)
        )
