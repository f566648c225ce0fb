from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from allauth.account.signals import password_changed

        from accounts import receivers

        # allauth announces password changes only through this signal.
        password_changed.connect(receivers.end_other_sessions_on_password_change)
